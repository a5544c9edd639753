"""The Network: submission with stellar-core's validity checks, ledger close, state and history queries."""
import hashlib
import struct
import time

import nacl.bindings
import nacl.exceptions
from stellar_sdk import Account as SdkAccount
from stellar_sdk import Keypair, TransactionBuilder
from stellar_sdk import xdr as X

from .codec import (FEE_META_XDR, amount, asset_fields, asset_string, b64, g, m, muxed, parse_asset_string,
                    parse_balance_id, parse_g, rfc3339, tx_meta_xdr, tx_result_xdr)
from .envelope import ParsedTx
from .history import History, page
from .outcome import SubmitOutcome, TxResult
from .ops import OP_NAMES, PAYMENT_TYPES, Applier, Ctx, describe, signer_entry, threshold_level
from .state import AUTH_CLAWBACK, AUTH_IMMUTABLE, AUTH_REQUIRED, AUTH_REVOCABLE, AUTHORIZED, \
    AUTHORIZED_TO_MAINTAIN, TL_CLAWBACK, Account, State
from .store import Store

TOTAL_COINS = 100_000_000_000 * 10_000_000
PROTOCOL = 22
MAX_TX_SET_SIZE = 1000


class _Invalid(Exception):
    """A validity failure: the transaction code, per-op codes for tx_failed, and the fee-bump inner part."""

    def __init__(self, code: str, ops: list | None = None, inner: tuple | None = None):
        super().__init__(code)
        self.code, self.ops, self.inner = code, ops, inner


def _verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        nacl.bindings.crypto_sign_open(sig + msg, pk)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, nacl.exceptions.CryptoError):
        return False


class Network:
    def __init__(self, passphrase: str, data_dir: str | None = None):
        self.passphrase = passphrase
        self.network_id = hashlib.sha256(passphrase.encode()).digest()
        self.root_keypair = Keypair.from_raw_ed25519_seed(self.network_id)
        self.base_fee = 100
        self.base_reserve = 5_000_000
        self.state = State()
        self.applier = Applier(self.state, self.base_reserve)
        self.history = History()
        self._results: dict[str, TxResult] = {}
        self._queue: list[ParsedTx] = []
        self._queued: set[str] = set()
        self._pending: dict[bytes, list] = {}   # source -> [last queued seq, fees reserved]
        self._store = Store(data_dir) if data_dir else None
        if self._store is None or not self._store.load(self):
            self._genesis()

    # ---- genesis and headers
    def _genesis(self):
        root = Account(self.root_keypair.raw_public_key(), TOTAL_COINS, 0, 1)
        self.state.put_account(root)
        self.fee_pool = 0
        self.ledger_seq = 0
        self.last_hash = b"\0" * 32
        self.last_close = 0
        self._record_ledger(1, 0, [], 0, 0, 0)
        if self._store is not None:
            self._store.save(self, [], [])

    def _record_ledger(self, seq: int, close_time: int, tx_hashes: list, ok: int, failed: int, ops: int,
                       tx_set_ops: int = 0):
        header = X.LedgerHeader(
            X.Uint32(PROTOCOL), X.Hash(self.last_hash),
            X.StellarValue(X.Hash(hashlib.sha256(b"".join(tx_hashes)).digest()), X.TimePoint(X.Uint64(close_time)),
                           [], X.StellarValueExt(X.StellarValueType.STELLAR_VALUE_BASIC)),
            X.Hash(hashlib.sha256(b"results" + b"".join(tx_hashes)).digest()),
            X.Hash(hashlib.sha256(b"buckets" + struct.pack(">I", seq)).digest()),
            X.Uint32(seq), X.Int64(TOTAL_COINS), X.Int64(self.fee_pool), X.Uint32(0), X.Uint64(0),
            X.Uint32(self.base_fee), X.Uint32(self.base_reserve), X.Uint32(MAX_TX_SET_SIZE),
            [X.Hash(b"\0" * 32)] * 4, X.LedgerHeaderExt(0))
        header_bytes = header.to_xdr_bytes()
        h = hashlib.sha256(header_bytes).hexdigest()
        rec = {"id": h, "paging_token": str(seq << 32), "hash": h, "prev_hash": self.last_hash.hex(),
               "sequence": seq, "successful_transaction_count": ok, "failed_transaction_count": failed,
               "operation_count": ops, "tx_set_operation_count": tx_set_ops, "closed_at": rfc3339(close_time),
               "total_coins": amount(TOTAL_COINS), "fee_pool": amount(self.fee_pool),
               "base_fee_in_stroops": self.base_fee, "base_reserve_in_stroops": self.base_reserve,
               "max_tx_set_size": MAX_TX_SET_SIZE, "protocol_version": PROTOCOL, "header_xdr": b64(header_bytes)}
        self.history.add_ledger(rec)
        self.ledger_seq, self.last_hash, self.last_close = seq, bytes.fromhex(h), close_time
        return rec

    def next_close_time(self) -> int:
        """Wall-clock seconds, never going back. Unlike core, two ledgers may share a close time: the
        server may close several ledgers a second, and close times running ahead of the clock would make
        clients' time bounds (built from the real time) expire early."""
        return max(int(time.time()), self.last_close)

    # ---- signatures
    def _signed(self, acc: Account, needed: int, tx_hash: bytes, sigs: list, used: list, cache: dict) -> bool:
        """stellar-core's checkSignature: add matching signers' weights until `needed` is reached."""
        total = 0
        signers = [("ed25519_public_key", acc.id, None, acc.master_weight)] if acc.master_weight else []
        signers += [(t, b, p, w) for t, _k, b, p, w in acc.signers]
        for kind, key, payload, weight in signers:
            matched = False
            if kind == "preauth_tx":
                matched = key == tx_hash
            elif kind == "sha256_hash":
                for i, (hint, sig) in enumerate(sigs):
                    if hint == key[-4:] and hashlib.sha256(sig).digest() == key:
                        used[i] = matched = True
                        break
            else:
                msg = tx_hash if payload is None else payload
                hint_want = key[-4:] if payload is None else bytes(
                    a ^ b for a, b in zip(key[-4:], (payload[-4:] if len(payload) >= 4 else payload.ljust(4, b"\0"))))
                for i, (hint, sig) in enumerate(sigs):
                    if hint != hint_want:
                        continue
                    ck = (i, key, payload)
                    ok = cache.get(ck)
                    if ok is None:
                        ok = cache[ck] = _verify(key, msg, sig)
                    if ok:
                        used[i] = matched = True
                        break
            if matched:
                total += min(weight, 255)
                if total >= needed:
                    return True
        return False

    # ---- validity
    def _check_inner(self, body, close_time: int, ledger: int, seq_base: int | None, charge_fee: bool,
                     fee_reserved: int = 0):
        """The checks stellar-core's checkValid runs on one transaction; raises _Invalid."""
        n = len(body.ops)
        if n == 0:
            raise _Invalid("tx_missing_operation")
        if n > 100:
            raise _Invalid("tx_malformed")
        cond = body.cond
        min_seq = min_age = min_gap = None
        extra = []
        tb = lb = None
        if cond.type.value == 1:
            tb = cond.time_bounds
        elif cond.type.value == 2:
            v2 = cond.v2
            tb, lb = v2.time_bounds, v2.ledger_bounds
            min_seq = v2.min_seq_num.sequence_number.int64 if v2.min_seq_num is not None else None
            min_age, min_gap = v2.min_seq_age.duration.uint64, v2.min_seq_ledger_gap.uint32
            extra = v2.extra_signers
        if tb is not None:
            lo, hi = tb.min_time.time_point.uint64, tb.max_time.time_point.uint64
            if hi and lo > hi:
                raise _Invalid("tx_malformed")
            if lo > close_time:
                raise _Invalid("tx_too_early")
            if hi and close_time > hi:
                raise _Invalid("tx_too_late")
        if lb is not None:
            if lb.min_ledger.uint32 > ledger:
                raise _Invalid("tx_too_early")
            if lb.max_ledger.uint32 and ledger >= lb.max_ledger.uint32:
                raise _Invalid("tx_too_late")
        if charge_fee and body.fee < self.base_fee * n:
            raise _Invalid("tx_insufficient_fee")
        accounts = self.state.accounts
        src = accounts.get(body.source)
        if src is None:
            raise _Invalid("tx_no_source_account")
        current = src.seq if seq_base is None else seq_base
        if min_seq is None:
            if body.seq != current + 1:
                raise _Invalid("tx_bad_seq")
        elif not (min_seq <= current < body.seq):
            raise _Invalid("tx_bad_seq")
        if min_age and src.seq_time + min_age > close_time:
            raise _Invalid("tx_bad_min_seq_age_or_gap")
        if min_gap and src.seq_ledger + min_gap > ledger:
            raise _Invalid("tx_bad_min_seq_age_or_gap")
        sigs, used, cache = body.sigs, [False] * len(body.sigs), body.verified
        if not self._signed(src, src.low, body.hash, sigs, used, cache):
            raise _Invalid("tx_bad_auth")
        if charge_fee and src.balance - self.applier.min_balance(src) - fee_reserved < body.fee:
            raise _Invalid("tx_insufficient_balance")
        op_codes = []
        all_ok = True
        for op in body.ops:
            code = "op_success"
            if op.source_account is not None:
                op_src = accounts.get(muxed(op.source_account)[0])
            else:
                op_src = src
            if op_src is None:
                code = "op_no_source_account"
            else:
                level = threshold_level(op)
                needed = op_src.low if level == "low" else op_src.med if level == "med" else op_src.high
                if not self._signed(op_src, needed, body.hash, sigs, used, cache):
                    code = "op_bad_auth"
            if code != "op_success":
                all_ok = False
            op_codes.append((op.body.type.value, code, None))
        if not all_ok:
            raise _Invalid("tx_failed", op_codes)
        for sk in extra:
            kind, _s, key, payload, _w = signer_entry(sk, 1)
            fake = Account(key, 0, 0, 0)
            if kind != "ed25519_public_key" or payload is not None:
                fake.master_weight = 0
                fake.signers = ((kind, "", key, payload, 1),)
            if not self._signed(fake, 1, body.hash, sigs, used, cache):
                raise _Invalid("tx_bad_auth")
        if not all(used):
            raise _Invalid("tx_bad_auth_extra")

    def _check(self, tx: ParsedTx, close_time: int, ledger: int, at_submit: bool):
        """Validity of an envelope (plain or fee bump) against current state (+ the queue at submit)."""
        pending = self._pending.get(tx.inner.source) if at_submit else None
        seq_base = pending[0] if pending else None
        if not tx.fee_bump:
            reserved = self._pending.get(tx.fee_source, (0, 0))[1] if at_submit else 0
            self._check_inner(tx.inner, close_time, ledger, seq_base, at_submit, reserved)
            return
        n = tx.num_ops
        if n == 0:
            raise _Invalid("tx_fee_bump_inner_failed", inner=(tx.inner.hash, "tx_missing_operation", None))
        if at_submit and (tx.outer_fee < self.base_fee * (n + 1) or tx.outer_fee * n < tx.inner.fee * (n + 1)):
            raise _Invalid("tx_insufficient_fee")
        fee_src = self.state.accounts.get(tx.fee_source)
        if fee_src is None:
            raise _Invalid("tx_no_source_account")
        used = [False] * len(tx.outer_sigs)
        if not self._signed(fee_src, fee_src.low, tx.hash, tx.outer_sigs, used, tx.outer_verified):
            raise _Invalid("tx_bad_auth")
        if at_submit:
            reserved = self._pending.get(tx.fee_source, (0, 0))[1]
            if fee_src.balance - self.applier.min_balance(fee_src) - reserved < tx.outer_fee:
                raise _Invalid("tx_insufficient_balance")
        if not all(used):
            raise _Invalid("tx_bad_auth_extra")
        try:
            self._check_inner(tx.inner, close_time, ledger, seq_base, False)
        except _Invalid as e:
            raise _Invalid("tx_fee_bump_inner_failed", inner=(tx.inner.hash, e.code, e.ops)) from None

    @staticmethod
    def _codes(code: str, ops: list | None, inner: tuple | None) -> dict:
        if inner is not None:
            d = {"transaction": code, "inner_transaction": inner[1]}
            if inner[2] is not None:
                d["operations"] = [c for _t, c, _p in inner[2]]
            return d
        d = {"transaction": code}
        if ops is not None and code == "tx_failed":
            d["operations"] = [c for _t, c, _p in ops]
        return d

    # ---- submission
    def submit(self, envelope_xdr: str) -> SubmitOutcome:
        tx = ParsedTx(envelope_xdr, self.network_id)
        h = tx.hash_hex
        if h in self._queued or h in self._results:
            return SubmitOutcome(h, "DUPLICATE")
        try:
            self._check(tx, self.next_close_time(), self.ledger_seq + 1, True)
        except _Invalid as e:
            res = TxResult(False, tx_result_xdr(0, e.code, e.ops, e.inner), self._codes(e.code, e.ops, e.inner))
            return SubmitOutcome(h, "ERROR", res)
        self._queue.append(tx)
        self._queued.add(h)
        p = self._pending.setdefault(tx.inner.source, [0, 0])
        p[0] = tx.inner.seq
        fp = self._pending.setdefault(tx.fee_source, [self.state.accounts[tx.fee_source].seq, 0])
        fp[1] += tx.outer_fee
        return SubmitOutcome(h, "PENDING")

    def fund(self, account_id: str, starting_balance: str = "10000") -> SubmitOutcome:
        """Friendbot: a create_account from the root account, signed here, queued for the next ledger."""
        parse_g(account_id)
        root = self.root_keypair.public_key
        p = self._pending.get(self.root_keypair.raw_public_key())
        seq = p[0] if p else self.state.accounts[self.root_keypair.raw_public_key()].seq
        tx = (TransactionBuilder(SdkAccount(root, seq), self.passphrase, base_fee=self.base_fee)
              .append_create_account_op(account_id, starting_balance).add_time_bounds(0, 0).build())
        tx.sign(self.root_keypair)
        return self.submit(tx.to_xdr())

    def result(self, tx_hash: str) -> TxResult | None:
        return self._results.get(tx_hash)

    # ---- ledger close
    def close_ledger(self, close_time: int | None = None) -> dict:
        seq = self.ledger_seq + 1
        ct = close_time if close_time is not None else self.next_close_time()
        queue, self._queue = self._queue, []
        self._queued, self._pending = set(), {}
        st = self.state
        fees = []
        for tx in queue:  # stellar-core charges every fee before applying any transaction
            acc = st.wacc(tx.fee_source)
            fee = min(self.base_fee * tx.fee_ops(), tx.outer_fee, acc.balance)
            acc.balance -= fee
            acc.last_modified = seq
            self.fee_pool += fee
            fees.append(fee)
        ok = failed = op_count = tx_set_ops = 0
        tx_rows, op_rows, hashes = [], [], []
        for order, (tx, fee) in enumerate(zip(queue, fees), 1):
            success, n_ops = self._apply_tx(tx, fee, seq, ct, order, tx_rows, op_rows)
            hashes.append(tx.hash)
            tx_set_ops += tx.num_ops
            if success:
                ok += 1
                op_count += n_ops
            else:
                failed += 1
        rec = self._record_ledger(seq, ct, hashes, ok, failed, op_count, tx_set_ops)
        if self._store is not None:
            self._store.save(self, tx_rows, op_rows)
        st.dirty_accounts.clear()
        st.dirty_cbs.clear()
        return rec

    def _apply_tx(self, tx: ParsedTx, fee: int, seq: int, ct: int, order: int, tx_rows, op_rows):
        st, body = self.state, tx.inner
        token = (seq << 32) | (order << 12)
        ops_res = None
        inner = None
        try:
            self._check(tx, ct, seq, False)
        except _Invalid as e:
            code, ops_res, inner = e.code, e.ops, e.inner
            success = False
        else:
            src = st.wacc(body.source)
            src.seq, src.seq_ledger, src.seq_time, src.last_modified = body.seq, seq, ct, seq
            self._drop_preauth(body)
            ctx = Ctx(seq, ct, body.source, body.seq)
            st.begin()
            ops_res = []
            success = True
            applier = self.applier
            for i, op in enumerate(body.ops):
                ctx.op_index = i
                op_src = muxed(op.source_account)[0] if op.source_account is not None else body.source
                if op_src not in st.accounts:
                    c, payload = "op_no_source_account", None
                else:
                    c, payload = applier.apply(op, op_src, ctx)
                ops_res.append((op.body.type.value, c, payload))
                if c != "op_success":
                    success = False
            if success:
                st.commit()
            else:
                st.rollback()
                ops_res = [(t, c, None) for t, c, _p in ops_res]
            code = "tx_success" if success else "tx_failed"
            if tx.fee_bump:
                inner = (body.hash, code, ops_res)
                code = "tx_fee_bump_inner_success" if success else "tx_fee_bump_inner_failed"
        result_xdr = tx_result_xdr(fee, code, None if inner else ops_res, inner)
        self._results[tx.hash_hex] = TxResult(success, result_xdr, self._codes(code, ops_res, inner))
        self._record_tx(tx, token, seq, ct, fee, success, result_xdr, tx_rows, op_rows)
        return success, len(body.ops)

    def _drop_preauth(self, body):
        """Pre-authorized transaction signers are consumed by the transaction, as in core."""
        for raw in {body.source} | {muxed(op.source_account)[0] for op in body.ops if op.source_account}:
            acc = self.state.accounts.get(raw)
            if acc is not None and any(s[0] == "preauth_tx" and s[2] == body.hash for s in acc.signers):
                acc = self.state.wacc(raw)
                acc.signers = tuple(s for s in acc.signers if not (s[0] == "preauth_tx" and s[2] == body.hash))
                acc.subentries -= 1

    # ---- history records
    def _record_tx(self, tx: ParsedTx, token: int, seq: int, ct: int, fee: int, success: bool, result_xdr: str,
                   tx_rows, op_rows):
        body = tx.inner
        created = rfc3339(ct)
        h = tx.hash_hex
        src_g = g(body.source)
        rec = {"id": h, "paging_token": str(token), "successful": success, "hash": h, "ledger": seq,
               "created_at": created, "source_account": src_g, "source_account_sequence": str(body.seq)}
        if body.source_mux is not None:
            rec["account_muxed"] = m(body.source, body.source_mux)
            rec["account_muxed_id"] = str(body.source_mux)
        rec["fee_account"] = g(tx.fee_source)
        if tx.fee_source_mux is not None:
            rec["fee_account_muxed"] = m(tx.fee_source, tx.fee_source_mux)
            rec["fee_account_muxed_id"] = str(tx.fee_source_mux)
        rec.update({"fee_charged": str(fee), "max_fee": str(tx.outer_fee), "operation_count": len(body.ops),
                    "envelope_xdr": tx.envelope_xdr, "result_xdr": result_xdr,
                    "result_meta_xdr": tx_meta_xdr(len(body.ops)), "fee_meta_xdr": FEE_META_XDR})
        self._memo_fields(rec, body.tx.memo)
        rec["signatures"] = [b64(s) for _h, s in tx.outer_sigs]
        pre = self._preconditions(body.cond)
        if pre:
            rec["preconditions"] = pre
        inner_sigs = None
        if tx.fee_bump:
            inner_sigs = [b64(s) for _h, s in body.sigs]
            rec["fee_bump_transaction"] = {"hash": h, "signatures": rec["signatures"]}
            rec["inner_transaction"] = {"hash": body.hash.hex(), "signatures": inner_sigs, "max_fee": str(body.fee)}
        participants = {src_g, rec["fee_account"]}
        tx_cbs = set()
        ctx = Ctx(seq, ct, body.source, body.seq)
        for i, op in enumerate(body.ops):
            ctx.op_index = i
            if op.source_account is not None:
                op_src, op_mux = muxed(op.source_account)
            else:
                op_src, op_mux = body.source, body.source_mux
            t = op.body.type.value
            fields, parts, cb = describe(op, op_src, op_mux, ctx)
            op_id = token | (i + 1)
            orec = {"id": str(op_id), "paging_token": str(op_id), "transaction_successful": success,
                    "source_account": g(op_src)}
            if op_mux is not None:
                orec["source_account_muxed"] = m(op_src, op_mux)
                orec["source_account_muxed_id"] = str(op_mux)
            orec.update({"type": OP_NAMES.get(t, "unknown"), "type_i": t, "created_at": created,
                         "transaction_hash": h})
            orec.update(fields)
            accts = {g(p) for p in parts}
            participants |= accts
            cbs = (cb,) if cb else ()
            tx_cbs.update(cbs)
            self.history.add_op(op_id, orec, accts, cbs, t in PAYMENT_TYPES)
            if self._store is not None:
                op_rows.append((op_id, orec, sorted(accts), list(cbs), t in PAYMENT_TYPES))
        inner_hash = body.hash.hex() if tx.fee_bump else None
        self.history.add_tx(token, rec, participants, tx_cbs, inner_hash, inner_sigs)
        if self._store is not None:
            tx_rows.append((token, rec, sorted(participants), sorted(tx_cbs), inner_hash, inner_sigs,
                            self._results[h].result_codes))

    @staticmethod
    def _memo_fields(rec: dict, memo):
        t = memo.type.value
        rec["memo_type"] = ("none", "text", "id", "hash", "return")[t]
        if t == 1:
            rec["memo"] = memo.text.decode("utf-8", "replace")
            rec["memo_bytes"] = b64(memo.text)
        elif t == 2:
            rec["memo"] = str(memo.id.uint64)
        elif t == 3:
            rec["memo"] = b64(memo.hash.hash)
        elif t == 4:
            rec["memo"] = b64(memo.ret_hash.hash)

    @staticmethod
    def _preconditions(cond) -> dict:
        t = cond.type.value
        if t == 0:
            return {}
        tb = cond.time_bounds if t == 1 else cond.v2.time_bounds
        out = {}
        if tb is not None:
            out["timebounds"] = {"min_time": str(tb.min_time.time_point.uint64),
                                 "max_time": str(tb.max_time.time_point.uint64)}
        if t == 2:
            v2 = cond.v2
            if v2.ledger_bounds is not None:
                out["ledgerbounds"] = {"min_ledger": v2.ledger_bounds.min_ledger.uint32,
                                       "max_ledger": v2.ledger_bounds.max_ledger.uint32}
            if v2.min_seq_num is not None:
                out["min_account_sequence"] = str(v2.min_seq_num.sequence_number.int64)
            if v2.min_seq_age.duration.uint64:
                out["min_account_sequence_age"] = str(v2.min_seq_age.duration.uint64)
            if v2.min_seq_ledger_gap.uint32:
                out["min_account_sequence_ledger_gap"] = v2.min_seq_ledger_gap.uint32
            if v2.extra_signers:
                    out["extra_signers"] = [signer_entry(s, 0)[1] for s in v2.extra_signers]
        return out

    # ---- state queries
    def _time_of(self, ledger: int) -> str:
        rec = self.history.ledgers.get(ledger)
        return rec["closed_at"] if rec else rfc3339(self.last_close)

    def account(self, account_id: str) -> dict | None:
        raw = parse_g(account_id)
        acc = self.state.accounts.get(raw)
        if acc is None:
            return None
        balances = []
        for asset in acc.lines:
            tl = self.state.lines[(raw, asset)]
            b = {"balance": amount(tl.balance), "limit": amount(tl.limit), "buying_liabilities": "0.0000000",
                 "selling_liabilities": "0.0000000", "last_modified_ledger": tl.last_modified,
                 "is_authorized": bool(tl.flags & AUTHORIZED),
                 "is_authorized_to_maintain_liabilities": bool(tl.flags & (AUTHORIZED | AUTHORIZED_TO_MAINTAIN))}
            if tl.flags & TL_CLAWBACK:
                b["is_clawback_enabled"] = True
            b.update(asset_fields(asset))
            balances.append(b)
        balances.append({"balance": amount(acc.balance), "buying_liabilities": "0.0000000",
                         "selling_liabilities": "0.0000000", "asset_type": "native"})
        d = {"id": account_id, "account_id": account_id, "sequence": str(acc.seq)}
        if acc.seq_ledger:
            d["sequence_ledger"] = acc.seq_ledger
            d["sequence_time"] = str(acc.seq_time)
        d["subentry_count"] = acc.subentries
        if acc.inflation_dest:
            d["inflation_destination"] = g(acc.inflation_dest)
        if acc.home_domain:
            d["home_domain"] = acc.home_domain
        d.update({
            "last_modified_ledger": acc.last_modified, "last_modified_time": self._time_of(acc.last_modified),
            "thresholds": {"low_threshold": acc.low, "med_threshold": acc.med, "high_threshold": acc.high},
            "flags": {"auth_required": bool(acc.flags & AUTH_REQUIRED),
                      "auth_revocable": bool(acc.flags & AUTH_REVOCABLE),
                      "auth_immutable": bool(acc.flags & AUTH_IMMUTABLE),
                      "auth_clawback_enabled": bool(acc.flags & AUTH_CLAWBACK)},
            "balances": balances,
            "signers": [{"weight": w, "key": k, "type": t} for t, k, _b, _p, w in acc.signers]
            + [{"weight": acc.master_weight, "key": account_id, "type": "ed25519_public_key"}],
            "data": {n: b64(self.state.data[(raw, n)]) for n in acc.data_names},
            "num_sponsoring": acc.num_sponsoring, "num_sponsored": 0, "paging_token": account_id})
        return d

    def account_data(self, account_id: str, key: str) -> bytes | None:
        return self.state.data.get((parse_g(account_id), key))

    def _cb_json(self, cb) -> dict:
        return {"id": cb.id, "asset": asset_string(cb.asset), "amount": amount(cb.amount), "sponsor": g(cb.sponsor),
                "last_modified_ledger": cb.last_modified, "last_modified_time": self._time_of(cb.last_modified),
                "claimants": [{"destination": g(d), "predicate": p} for d, p in cb.claimants],
                "flags": {"clawback_enabled": bool(cb.flags & 1)},
                "paging_token": f"{cb.last_modified}-{cb.id}"}

    def claimable_balance(self, balance_id: str) -> dict | None:
        cb = self.state.cbs.get(parse_balance_id(balance_id))
        return None if cb is None else self._cb_json(cb)

    def claimable_balances(self, *, cursor: str | None, order="asc", limit=10, claimant=None, sponsor=None,
                           asset=None) -> list[dict]:
        claimant_raw = parse_g(claimant) if claimant else None
        sponsor_raw = parse_g(sponsor) if sponsor else None
        asset_k = parse_asset_string(asset) if asset else False
        after = None
        if cursor:
            ledger, _, bid = cursor.partition("-")
            try:
                after = (int(ledger), bid)
            except ValueError:
                raise ValueError(f"invalid cursor: {cursor!r}") from None
        rows = []
        for cb in self.state.cbs.values():
            if claimant_raw and not any(d == claimant_raw for d, _p in cb.claimants):
                continue
            if sponsor_raw and cb.sponsor != sponsor_raw:
                continue
            if asset_k is not False and cb.asset != asset_k:
                continue
            key = (cb.last_modified, cb.id)
            if after is not None and (key <= after if order != "desc" else key >= after):
                continue
            rows.append((key, cb))
        rows.sort(key=lambda r: r[0], reverse=order == "desc")
        return [self._cb_json(cb) for _k, cb in rows[:limit]]

    def latest_ledger(self) -> dict:
        return self.history.ledgers[self.ledger_seq]

    def now_cursor(self) -> int:
        return (self.ledger_seq << 32) | 0xFFFFFFFF

    def fee_stats(self) -> dict:
        recent = page(self.history.tx_ids, None, "desc", 1000, (max(1, self.ledger_seq - 4)) << 32)
        charged, bids = [], []
        for t in recent:
            rec = self.history.txs[t]
            n = rec["operation_count"] + (1 if "fee_bump_transaction" in rec else 0)
            charged.append(int(rec["fee_charged"]) // n)
            bids.append(int(rec["max_fee"]) // n)

        def stats(values):
            values = sorted(values) or [self.base_fee]
            pick = lambda p: str(values[min(len(values) - 1, int(len(values) * p / 100))])  # noqa: E731
            mode = max(set(values), key=values.count)
            out = {"max": str(values[-1]), "min": str(values[0]), "mode": str(mode)}
            out.update({f"p{p}": pick(p) for p in (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)})
            return out

        latest = self.latest_ledger()
        return {"last_ledger": str(self.ledger_seq), "last_ledger_base_fee": str(self.base_fee),
                "ledger_capacity_usage": f"{min(1.0, latest['tx_set_operation_count'] / MAX_TX_SET_SIZE):.2f}",
                "fee_charged": stats(charged), "max_fee": stats(bids)}

    # ---- history queries
    def ledgers(self, *, cursor=None, order="asc", limit=10) -> list[dict]:
        return self.history.ledger_page(cursor, order, limit)

    def ledger(self, seq: int) -> dict | None:
        return self.history.ledgers.get(seq)

    def transaction(self, tx_hash: str) -> dict | None:
        if len(tx_hash) != 64:
            raise ValueError(f"invalid transaction hash: {tx_hash!r}")
        bytes.fromhex(tx_hash)
        return self.history.transaction(tx_hash.lower())

    def transactions(self, *, cursor=None, order="asc", limit=10, account=None, ledger=None,
                     claimable_balance=None, include_failed=False) -> list[dict]:
        if account is not None:
            parse_g(account)
        if claimable_balance is not None:
            claimable_balance = parse_balance_id(claimable_balance)
        return self.history.transactions(cursor, order, limit, account, ledger, claimable_balance, include_failed)

    def operation(self, op_id: int) -> dict | None:
        return self.history.ops.get(op_id)

    def operations(self, *, cursor=None, order="asc", limit=10, account=None, ledger=None, tx_hash=None,
                   claimable_balance=None, payments_only=False, include_failed=False) -> list[dict]:
        if account is not None:
            parse_g(account)
        if claimable_balance is not None:
            claimable_balance = parse_balance_id(claimable_balance)
        tx_token = None
        if tx_hash is not None:
            rec = self.transaction(tx_hash)
            if rec is None:
                return []
            tx_token = int(rec["paging_token"])
        return self.history.operations(cursor, order, limit, account, ledger, tx_token, claimable_balance,
                                       payments_only, include_failed)

