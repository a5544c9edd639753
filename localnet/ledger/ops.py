"""Operations: apply (returns the result code) and describe (the Horizon operation record fields).

No order book exists, so any path hop that changes asset fails as an empty book does (op_too_few_offers).
"""
import base64

from stellar_sdk import StrKey
from stellar_sdk import xdr as X

from .codec import (INT64_MAX, account_id_raw, amount, asset_code_valid, asset_fields, asset_key, asset_string,
                    balance_id, balance_id_xdr, g, m, muxed, rfc3339)
from .state import (AUTH_CLAWBACK, AUTH_IMMUTABLE, AUTH_REQUIRED, AUTH_REVOCABLE, AUTHORIZED,
                    AUTHORIZED_TO_MAINTAIN, TL_CLAWBACK, Account, ClaimableBalance, Trustline)

OP_NAMES = {0: "create_account", 1: "payment", 2: "path_payment_strict_receive", 3: "manage_sell_offer",
            4: "create_passive_sell_offer", 5: "set_options", 6: "change_trust", 7: "allow_trust",
            8: "account_merge", 9: "inflation", 10: "manage_data", 11: "bump_sequence", 12: "manage_buy_offer",
            13: "path_payment_strict_send", 14: "create_claimable_balance", 15: "claim_claimable_balance",
            16: "begin_sponsoring_future_reserves", 17: "end_sponsoring_future_reserves", 18: "revoke_sponsorship",
            19: "clawback", 20: "clawback_claimable_balance", 21: "set_trust_line_flags",
            22: "liquidity_pool_deposit", 23: "liquidity_pool_withdraw", 24: "invoke_host_function",
            25: "extend_footprint_ttl", 26: "restore_footprint"}
PAYMENT_TYPES = frozenset((0, 1, 2, 13, 8))
LOW_OPS = frozenset((7, 11, 15, 21))  # allow_trust, bump_sequence, claim_claimable_balance, set_trust_line_flags
ACCOUNT_FLAG_NAMES = {AUTH_REQUIRED: "auth_required", AUTH_REVOCABLE: "auth_revocable",
                      AUTH_IMMUTABLE: "auth_immutable", AUTH_CLAWBACK: "auth_clawback_enabled"}
LINE_FLAG_NAMES = {AUTHORIZED: "authorized", AUTHORIZED_TO_MAINTAIN: "authorized_to_maintain_liabilities",
                   TL_CLAWBACK: "clawback_enabled"}
MAX_SIGNERS = 20


def threshold_level(op) -> str:
    """Which of the source account's thresholds the operation needs."""
    t = op.body.type.value
    if t in LOW_OPS:
        return "low"
    if t == 8:
        return "high"
    if t == 5:
        so = op.body.set_options_op
        if (so.master_weight is not None or so.low_threshold is not None or so.med_threshold is not None
                or so.high_threshold is not None or so.signer is not None):
            return "high"
    return "med"


def signer_entry(key, weight: int) -> tuple:
    """(type name, strkey, key bytes, payload, weight) for an XDR SignerKey."""
    t = key.type.value
    if t == 0:
        b = key.ed25519.uint256
        return "ed25519_public_key", g(b), b, None, weight
    if t == 1:
        b = key.pre_auth_tx.uint256
        return "preauth_tx", StrKey.encode_pre_auth_tx(b), b, None, weight
    if t == 2:
        b = key.hash_x.uint256
        return "sha256_hash", StrKey.encode_sha256_hash(b), b, None, weight
    sp = key.ed25519_signed_payload
    b, payload = sp.ed25519.uint256, sp.payload
    return "ed25519_signed_payload", StrKey.encode_ed25519_signed_payload(sp.to_xdr_bytes()), b, payload, weight


def predicate_json(p, close_time: int | None) -> dict:
    """Horizon's snake_case predicate; with close_time, relative bounds become absolute (as core stores them)."""
    t = p.type.value
    if t == 0:
        return {"unconditional": True}
    if t == 1:
        return {"and": [predicate_json(x, close_time) for x in p.and_predicates]}
    if t == 2:
        return {"or": [predicate_json(x, close_time) for x in p.or_predicates]}
    if t == 3:
        return {"not": predicate_json(p.not_predicate, close_time)}
    if t == 4:
        return _abs(p.abs_before.int64)
    rel = p.rel_before.int64
    if close_time is None:
        return {"rel_before": str(rel)}
    return _abs(min(close_time + rel, INT64_MAX))


def _abs(epoch: int) -> dict:
    try:
        return {"abs_before": rfc3339(epoch), "abs_before_epoch": str(epoch)}
    except (OverflowError, ValueError, OSError):
        return {"abs_before": "+292277026596-12-04T15:30:07Z", "abs_before_epoch": str(epoch)}


def predicate_ok(p: dict, close_time: int) -> bool:
    if "unconditional" in p:
        return True
    if "and" in p:
        return all(predicate_ok(x, close_time) for x in p["and"])
    if "or" in p:
        return any(predicate_ok(x, close_time) for x in p["or"])
    if "not" in p:
        return not predicate_ok(p["not"], close_time)
    return close_time < int(p["abs_before_epoch"])


def _predicate_valid(p, depth: int = 1) -> bool:
    if depth > 4:
        return False
    t = p.type.value
    if t in (1, 2):
        kids = p.and_predicates if t == 1 else p.or_predicates
        return len(kids) == 2 and all(_predicate_valid(k, depth + 1) for k in kids)
    if t == 3:
        return p.not_predicate is not None and _predicate_valid(p.not_predicate, depth + 1)
    if t == 4:
        return p.abs_before.int64 >= 0
    if t == 5:
        return p.rel_before.int64 >= 0
    return True


class Ctx:
    """Where an operation runs: the ledger being closed and its parent transaction."""
    __slots__ = ("ledger", "close_time", "tx_source", "tx_seq", "op_index")

    def __init__(self, ledger: int, close_time: int, tx_source: bytes, tx_seq: int):
        self.ledger, self.close_time, self.tx_source, self.tx_seq = ledger, close_time, tx_source, tx_seq
        self.op_index = 0


def _muxed_fields(d: dict, name: str, raw: bytes, mux) -> None:
    d[name] = g(raw)
    if mux is not None:
        d[name + "_muxed"] = m(raw, mux)
        d[name + "_muxed_id"] = str(mux)


def _flags(v: int, names: dict) -> tuple[list, list]:
    bits = [b for b in sorted(names) if v & b]
    return bits, [names[b] for b in bits]


def describe(op, src: bytes, src_mux, ctx: Ctx) -> tuple[dict, set, str | None]:
    """(record fields, participant raw keys, claimable balance id touched) for an operation."""
    t = op.body.type.value
    b = op.body
    d: dict = {}
    parts = {src}
    cb = None
    if t == 0:
        o = b.create_account_op
        dest = account_id_raw(o.destination)
        d["starting_balance"] = amount(o.starting_balance.int64)
        _muxed_fields(d, "funder", src, src_mux)
        d["account"] = g(dest)
        parts.add(dest)
    elif t in (1, 2, 13):
        if t == 1:
            o = b.payment_op
            dest_asset, amt = asset_key(o.asset), o.amount.int64
        elif t == 2:
            o = b.path_payment_strict_receive_op
            dest_asset, amt = asset_key(o.dest_asset), o.dest_amount.int64
        else:
            o = b.path_payment_strict_send_op
            dest_asset, amt = asset_key(o.dest_asset), o.send_amount.int64
        dest, dest_mux = muxed(o.destination)
        d.update(asset_fields(dest_asset))
        _muxed_fields(d, "from", src, src_mux)
        _muxed_fields(d, "to", dest, dest_mux)
        d["amount"] = amount(amt)
        if t != 1:
            d["path"] = [asset_fields(asset_key(a)) for a in o.path]
            d["source_amount"] = amount(amt)
            if t == 2:
                d["source_max"] = amount(o.send_max.int64)
            else:
                d["destination_min"] = amount(o.dest_min.int64)
            d.update(asset_fields(asset_key(o.send_asset), "source_"))
        parts.add(dest)
    elif t == 5:
        o = b.set_options_op
        if o.home_domain is not None:
            d["home_domain"] = o.home_domain.string32.decode("utf-8", "replace")
        if o.inflation_dest is not None:
            d["inflation_dest"] = g(account_id_raw(o.inflation_dest))
        if o.master_weight is not None:
            d["master_key_weight"] = o.master_weight.uint32
        if o.signer is not None:
            d["signer_key"] = signer_entry(o.signer.key, 0)[1]
            d["signer_weight"] = o.signer.weight.uint32
        for name, v in (("set_flags", o.set_flags), ("clear_flags", o.clear_flags)):
            if v is not None:
                d[name], d[name + "_s"] = _flags(v.uint32, ACCOUNT_FLAG_NAMES)
        for name, v in (("low_threshold", o.low_threshold), ("med_threshold", o.med_threshold),
                        ("high_threshold", o.high_threshold)):
            if v is not None:
                d[name] = v.uint32
    elif t == 6:
        o = b.change_trust_op
        try:
            a = asset_key(o.line)
        except ValueError:
            d["asset_type"] = "liquidity_pool_shares"
        else:
            d.update(asset_fields(a))
            if a is not None:
                d["trustee"] = g(a[1])
        d["limit"] = amount(o.limit.int64)
        _muxed_fields(d, "trustor", src, src_mux)
    elif t in (7, 21):
        o = b.allow_trust_op if t == 7 else b.set_trust_line_flags_op
        trustor = account_id_raw(o.trustor)
        if t == 7:
            code = (o.asset.asset_code4.asset_code4 if o.asset.type.value == 1
                    else o.asset.asset_code12.asset_code12).rstrip(b"\0").decode("ascii", "replace")
            d.update(asset_fields((code, src)))
            d["authorize"] = bool(o.authorize.uint32 & AUTHORIZED)
            d["authorize_to_maintain_liabilities"] = bool(o.authorize.uint32 & (AUTHORIZED | AUTHORIZED_TO_MAINTAIN))
            _muxed_fields(d, "trustee", src, src_mux)
        else:
            d.update(asset_fields(asset_key(o.asset)))
            for name, v in (("set_flags", o.set_flags), ("clear_flags", o.clear_flags)):
                if v.uint32:
                    d[name], d[name + "_s"] = _flags(v.uint32, LINE_FLAG_NAMES)
        d["trustor"] = g(trustor)
        parts.add(trustor)
    elif t == 8:
        dest, dest_mux = muxed(b.destination)
        _muxed_fields(d, "account", src, src_mux)
        _muxed_fields(d, "into", dest, dest_mux)
        parts.add(dest)
    elif t == 10:
        o = b.manage_data_op
        d["name"] = o.data_name.string64.decode("utf-8", "replace")
        d["value"] = base64.b64encode(o.data_value.data_value).decode() if o.data_value is not None else ""
    elif t == 11:
        d["bump_to"] = str(b.bump_sequence_op.bump_to.sequence_number.int64)
    elif t == 14:
        o = b.create_claimable_balance_op
        d["asset"] = asset_string(asset_key(o.asset))
        d["amount"] = amount(o.amount.int64)
        d["claimants"] = []
        for c in o.claimants:
            dest = account_id_raw(c.v0.destination)
            d["claimants"].append({"destination": g(dest), "predicate": predicate_json(c.v0.predicate, None)})
            parts.add(dest)
        cb = balance_id(ctx.tx_source, ctx.tx_seq, ctx.op_index)
    elif t == 15:
        cb = "00000000" + b.claim_claimable_balance_op.balance_id.v0.hash.hex()
        d["balance_id"] = cb
        _muxed_fields(d, "claimant", src, src_mux)
    return d, parts, cb


class Applier:
    """Runs operations against the State; every method returns a short result code (and success payload)."""

    def __init__(self, state, base_reserve: int):
        self.st = state
        self.base_reserve = base_reserve

    # -- balances
    def min_balance(self, acc: Account, extra: int = 0) -> int:
        return (2 + acc.subentries + acc.num_sponsoring + extra) * self.base_reserve

    def available(self, acc: Account) -> int:
        return acc.balance - self.min_balance(acc)

    def _credit_dest(self, dest: bytes, asset, amt: int, ctx) -> str | None:
        """Add amt of asset to dest; the failure code, or None."""
        st = self.st
        if asset is None:
            acc = st.wacc(dest)
            if acc.balance > INT64_MAX - amt:
                return "op_line_full"
            acc.balance += amt
            acc.last_modified = ctx.ledger
            return None
        if dest == asset[1]:
            return None  # the issuer's own asset is burned
        if (dest, asset) not in st.lines:
            return "op_no_trust"
        tl = st.lines[(dest, asset)]
        if not tl.flags & AUTHORIZED:
            return "op_not_authorized"
        if tl.balance + amt > tl.limit:
            return "op_line_full"
        tl = st.wline(dest, asset)
        tl.balance += amt
        tl.last_modified = ctx.ledger
        return None

    def _debit_src(self, src: bytes, asset, amt: int, ctx, src_prefix: str = "op_src_") -> str | None:
        st = self.st
        if asset is None:
            acc = st.accounts[src]
            if self.available(acc) < amt:
                return "op_underfunded"
            acc = st.wacc(src)
            acc.balance -= amt
            acc.last_modified = ctx.ledger
            return None
        if src == asset[1]:
            return None  # issuers mint without limit
        tl = st.lines.get((src, asset))
        if tl is None:
            return src_prefix + "no_trust"
        if not tl.flags & AUTHORIZED:
            return src_prefix + "not_authorized"
        if tl.balance < amt:
            return "op_underfunded"
        tl = st.wline(src, asset)
        tl.balance -= amt
        tl.last_modified = ctx.ledger
        return None

    # -- dispatch
    def apply(self, op, src: bytes, ctx: Ctx):
        t = op.body.type.value
        fn = _DISPATCH.get(t)
        if fn is None:
            return "op_not_supported", None
        return fn(self, op.body, src, ctx)

    def create_account(self, b, src, ctx):
        o = b.create_account_op
        dest = account_id_raw(o.destination)
        start = o.starting_balance.int64
        if start < 0 or dest == src:
            return "op_malformed", None
        if dest in self.st.accounts:
            return "op_already_exists", None
        if start < 2 * self.base_reserve:
            return "op_low_reserve", None
        code = self._debit_src(src, None, start, ctx)
        if code:
            return code, None
        self.st.put_account(Account(dest, start, ctx.ledger << 32, ctx.ledger))
        return "op_success", None

    def payment(self, b, src, ctx):
        o = b.payment_op
        dest, _ = muxed(o.destination)
        asset, amt = asset_key(o.asset), o.amount.int64
        if amt <= 0 or (asset is not None and not asset_code_valid(asset[0], o.asset.type.value == 2)):
            return "op_malformed", None
        if dest not in self.st.accounts:
            return "op_no_destination", None
        if src == dest and asset is not None:
            return ("op_success", None) if asset[1] == src or (src, asset) in self.st.lines else ("op_src_no_trust", None)
        code = self._credit_dest(dest, asset, amt, ctx) or self._debit_src(src, asset, amt, ctx)
        return code or "op_success", None

    def _path_payment(self, o, src, ctx, strict_send: bool):
        dest, _ = muxed(o.destination)
        send_asset, dest_asset = asset_key(o.send_asset), asset_key(o.dest_asset)
        if strict_send:
            send_amt = dest_amt = o.send_amount.int64
            bad = send_amt <= 0 or o.dest_min.int64 <= 0
        else:
            send_amt = dest_amt = o.dest_amount.int64
            bad = dest_amt <= 0 or o.send_max.int64 <= 0
        if bad:
            return "op_malformed", None
        if dest not in self.st.accounts:
            return "op_no_destination", None
        code = self._credit_dest(dest, dest_asset, dest_amt, ctx)
        if code:
            return code, None
        hops = [send_asset] + [asset_key(a) for a in o.path] + [dest_asset]
        if any(a != b for a, b in zip(hops, hops[1:])):
            return "op_too_few_offers", None
        if strict_send and dest_amt < o.dest_min.int64:
            return "op_under_dest_min", None
        if not strict_send and send_amt > o.send_max.int64:
            return "op_over_source_max", None
        code = self._debit_src(src, send_asset, send_amt, ctx)
        if code:
            return code, None
        dest_id = X.AccountID(X.PublicKey(X.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, X.Uint256(dest)))
        last = X.SimplePaymentResult(dest_id, o.dest_asset, X.Int64(dest_amt))
        return "op_success", {"success": X.PathPaymentStrictReceiveResultSuccess([], last) if not strict_send
                              else X.PathPaymentStrictSendResultSuccess([], last)}

    def path_payment_strict_receive(self, b, src, ctx):
        return self._path_payment(b.path_payment_strict_receive_op, src, ctx, False)

    def path_payment_strict_send(self, b, src, ctx):
        return self._path_payment(b.path_payment_strict_send_op, src, ctx, True)

    def set_options(self, b, src, ctx):
        o = b.set_options_op
        st = self.st
        acc = st.accounts[src]
        if o.inflation_dest is not None and account_id_raw(o.inflation_dest) not in st.accounts:
            return "op_invalid_inflation", None
        set_f = o.set_flags.uint32 if o.set_flags is not None else 0
        clear_f = o.clear_flags.uint32 if o.clear_flags is not None else 0
        if set_f & clear_f:
            return "op_bad_flags", None
        if (set_f | clear_f) & ~0xF:
            return "op_unknown_flag", None
        if (set_f | clear_f) and acc.flags & AUTH_IMMUTABLE:
            return "op_cant_change", None
        for v in (o.master_weight, o.low_threshold, o.med_threshold, o.high_threshold):
            if v is not None and v.uint32 > 255:
                return "op_threshold_out_of_range", None
        if o.home_domain is not None:
            hd = o.home_domain.string32
            if any(c < 0x20 or c > 0x7E for c in hd):
                return "op_invalid_home_domain", None
        new_flags = (acc.flags | set_f) & ~clear_f
        if new_flags & AUTH_CLAWBACK and not new_flags & AUTH_REVOCABLE:
            return "op_auth_revocable_required", None
        acc = st.wacc(src)
        if o.signer is not None:
            entry = signer_entry(o.signer.key, o.signer.weight.uint32)
            if entry[0] == "ed25519_public_key" and entry[2] == src:
                return "op_bad_signer", None
            if entry[4] > 255:
                return "op_threshold_out_of_range", None
            existing = [s for s in acc.signers if s[1] == entry[1]]
            others = tuple(s for s in acc.signers if s[1] != entry[1])
            if entry[4] == 0:
                if existing:
                    acc.signers = others
                    acc.subentries -= 1
            elif existing:
                acc.signers = tuple(sorted(others + (entry,), key=lambda s: s[1]))
            else:
                if len(acc.signers) >= MAX_SIGNERS:
                    return "op_too_many_signers", None
                if acc.balance < self.min_balance(acc, 1):
                    return "op_low_reserve", None
                acc.signers = tuple(sorted(others + (entry,), key=lambda s: s[1]))
                acc.subentries += 1
        if o.inflation_dest is not None:
            acc.inflation_dest = account_id_raw(o.inflation_dest)
        acc.flags = new_flags
        if o.master_weight is not None:
            acc.master_weight = o.master_weight.uint32
        if o.low_threshold is not None:
            acc.low = o.low_threshold.uint32
        if o.med_threshold is not None:
            acc.med = o.med_threshold.uint32
        if o.high_threshold is not None:
            acc.high = o.high_threshold.uint32
        if o.home_domain is not None:
            acc.home_domain = o.home_domain.string32.decode("ascii")
        acc.last_modified = ctx.ledger
        return "op_success", None

    def change_trust(self, b, src, ctx):
        o = b.change_trust_op
        st = self.st
        try:
            asset = asset_key(o.line)
        except ValueError:
            return "op_not_supported", None
        limit = o.limit.int64
        if asset is None or limit < 0 or asset[1] == src or not asset_code_valid(asset[0], o.line.type.value == 2):
            return "op_malformed", None
        tl = st.lines.get((src, asset))
        if tl is not None:
            if limit == 0:
                if tl.balance > 0:
                    return "op_invalid_limit", None
                st.del_line(src, asset)
                acc = st.wacc(src)
                acc.lines = tuple(a for a in acc.lines if a != asset)
                acc.subentries -= 1
                acc.last_modified = ctx.ledger
                return "op_success", None
            if limit < tl.balance:
                return "op_invalid_limit", None
            tl = st.wline(src, asset)
            tl.limit = limit
            tl.last_modified = ctx.ledger
            return "op_success", None
        if limit == 0:
            return "op_invalid_limit", None
        issuer = st.accounts.get(asset[1])
        if issuer is None:
            return "op_no_issuer", None
        acc = st.accounts[src]
        if acc.balance < self.min_balance(acc, 1):
            return "op_low_reserve", None
        acc = st.wacc(src)
        flags = 0 if issuer.flags & AUTH_REQUIRED else AUTHORIZED
        if issuer.flags & AUTH_CLAWBACK:
            flags |= TL_CLAWBACK
        st.put_line(src, asset, Trustline(0, limit, flags, ctx.ledger))
        acc.lines = acc.lines + (asset,)
        acc.subentries += 1
        acc.last_modified = ctx.ledger
        return "op_success", None

    def _set_line_flags(self, src, trustor, asset, clear_f, set_f, ctx, no_line_code):
        st = self.st
        tl = st.lines.get((trustor, asset))
        if tl is None:
            return no_line_code
        new = (tl.flags & ~clear_f) | set_f
        if new & AUTHORIZED and new & AUTHORIZED_TO_MAINTAIN:
            return "op_invalid_state"
        issuer = st.accounts[src]
        revoking = (tl.flags & AUTHORIZED and not new & AUTHORIZED) or (
            tl.flags & (AUTHORIZED | AUTHORIZED_TO_MAINTAIN) and not new & (AUTHORIZED | AUTHORIZED_TO_MAINTAIN))
        if revoking and not issuer.flags & AUTH_REVOCABLE:
            return "op_cant_revoke"
        tl = st.wline(trustor, asset)
        tl.flags = new
        tl.last_modified = ctx.ledger
        return None

    def allow_trust(self, b, src, ctx):
        o = b.allow_trust_op
        trustor = account_id_raw(o.trustor)
        alpha12 = o.asset.type.value == 2
        code = (o.asset.asset_code12.asset_code12 if alpha12 else o.asset.asset_code4.asset_code4).rstrip(b"\0")
        code = code.decode("ascii", "replace")
        auth = o.authorize.uint32
        if not asset_code_valid(code, alpha12) or auth > 2:
            return "op_malformed", None
        if trustor == src:
            return "op_self_not_allowed", None
        err = self._set_line_flags(src, trustor, (code, src), AUTHORIZED | AUTHORIZED_TO_MAINTAIN, auth, ctx,
                                   "op_no_trustline")
        return (err or "op_success"), None

    def set_trust_line_flags(self, b, src, ctx):
        o = b.set_trust_line_flags_op
        trustor = account_id_raw(o.trustor)
        asset = asset_key(o.asset)
        clear_f, set_f = o.clear_flags.uint32, o.set_flags.uint32
        if (asset is None or asset[1] != src or trustor == src or set_f & clear_f or set_f & TL_CLAWBACK
                or (set_f | clear_f) & ~7):
            return "op_malformed", None
        err = self._set_line_flags(src, trustor, asset, clear_f, set_f, ctx, "op_no_trust_line")
        return (err or "op_success"), None

    def account_merge(self, b, src, ctx):
        st = self.st
        dest, _ = muxed(b.destination)
        if dest == src:
            return "op_malformed", None
        if dest not in st.accounts:
            return "op_no_account", None
        acc = st.accounts[src]
        if acc.flags & AUTH_IMMUTABLE:
            return "op_immutable_set", None
        if acc.subentries:
            return "op_has_sub_entries", None
        if acc.seq >= ctx.ledger << 32:
            return "op_seq_num_too_far", None
        if acc.num_sponsoring:
            return "op_is_sponsor", None
        d = st.accounts[dest]
        if d.balance > INT64_MAX - acc.balance:
            return "op_dest_full", None
        d = st.wacc(dest)
        d.balance += acc.balance
        d.last_modified = ctx.ledger
        st.del_account(src)
        return "op_success", {"source_account_balance": X.Int64(acc.balance)}

    def manage_data(self, b, src, ctx):
        o = b.manage_data_op
        st = self.st
        raw_name = o.data_name.string64
        if not raw_name or any(c < 0x20 or c == 0x7F for c in raw_name):
            return "op_data_invalid_name", None
        name = raw_name.decode("utf-8", "replace")
        exists = (src, name) in st.data
        if o.data_value is None:
            if not exists:
                return "op_data_name_not_found", None
            st.put_data(src, name, None)
            acc = st.wacc(src)
            acc.data_names = tuple(n for n in acc.data_names if n != name)
            acc.subentries -= 1
        else:
            acc = st.accounts[src]
            if not exists and acc.balance < self.min_balance(acc, 1):
                return "op_low_reserve", None
            acc = st.wacc(src)
            st.put_data(src, name, o.data_value.data_value)
            if not exists:
                acc.data_names = acc.data_names + (name,)
                acc.subentries += 1
        acc.last_modified = ctx.ledger
        return "op_success", None

    def bump_sequence(self, b, src, ctx):
        to = b.bump_sequence_op.bump_to.sequence_number.int64
        if to < 0:
            return "op_bad_seq", None
        acc = self.st.accounts[src]
        if to > acc.seq:
            acc = self.st.wacc(src)
            acc.seq = to
            acc.seq_ledger, acc.seq_time = ctx.ledger, ctx.close_time
            acc.last_modified = ctx.ledger
        return "op_success", None

    def create_claimable_balance(self, b, src, ctx):
        o = b.create_claimable_balance_op
        st = self.st
        asset, amt = asset_key(o.asset), o.amount.int64
        dests = [account_id_raw(c.v0.destination) for c in o.claimants]
        if (amt <= 0 or not dests or len(set(dests)) != len(dests)
                or not all(_predicate_valid(c.v0.predicate) for c in o.claimants)):
            return "op_malformed", None
        acc = st.accounts[src]
        if acc.balance - (asset is None and amt or 0) < self.min_balance(acc, len(dests)):
            return "op_low_reserve", None
        code = self._debit_src(src, asset, amt, ctx, "op_")
        if code:
            return code, None
        acc = st.wacc(src)
        acc.num_sponsoring += len(dests)
        acc.last_modified = ctx.ledger
        flags = 0
        if asset is not None and asset[1] != src and st.lines[(src, asset)].flags & TL_CLAWBACK:
            flags = 1
        bid = balance_id(ctx.tx_source, ctx.tx_seq, ctx.op_index)
        claimants = [(d, predicate_json(c.v0.predicate, ctx.close_time)) for d, c in zip(dests, o.claimants)]
        st.put_cb(ClaimableBalance(bid, asset, amt, claimants, src, flags, ctx.ledger))
        return "op_success", {"balance_id": balance_id_xdr(bid)}

    def claim_claimable_balance(self, b, src, ctx):
        st = self.st
        bid = "00000000" + b.claim_claimable_balance_op.balance_id.v0.hash.hex()
        cb = st.cbs.get(bid)
        if cb is None:
            return "op_does_not_exist", None
        if not any(d == src and predicate_ok(p, ctx.close_time) for d, p in cb.claimants):
            return "op_cannot_claim", None
        code = self._credit_dest(src, cb.asset, cb.amount, ctx)
        if code:
            return code, None
        st.del_cb(bid)
        if cb.sponsor in st.accounts:
            sp = st.wacc(cb.sponsor)
            sp.num_sponsoring -= len(cb.claimants)
            sp.last_modified = ctx.ledger
        return "op_success", None


_DISPATCH = {0: Applier.create_account, 1: Applier.payment, 2: Applier.path_payment_strict_receive,
             5: Applier.set_options, 6: Applier.change_trust, 7: Applier.allow_trust, 8: Applier.account_merge,
             10: Applier.manage_data, 11: Applier.bump_sequence, 13: Applier.path_payment_strict_send,
             14: Applier.create_claimable_balance, 15: Applier.claim_claimable_balance,
             21: Applier.set_trust_line_flags}
