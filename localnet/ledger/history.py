"""Ledger, transaction and operation history with the indexes Horizon's list endpoints filter on.

Ids (paging tokens) only grow, so every index is an append-only sorted list and a page is a bisect.
"""
from bisect import bisect_left, bisect_right

PAYMENT_NAMES = frozenset(("create_account", "payment", "path_payment_strict_receive", "path_payment_strict_send",
                           "account_merge"))


def page(ids: list, cursor, order: str, limit: int, lo: int = 0, hi: int = 1 << 63, keep=None) -> list:
    """Up to `limit` ids from sorted `ids` within [lo, hi), strictly after (asc) / before (desc) cursor."""
    out = []
    if order == "desc":
        end = len(ids) if cursor is None else bisect_left(ids, cursor)
        end = min(end, bisect_left(ids, hi))
        i = end - 1
        while i >= 0 and len(out) < limit:
            v = ids[i]
            if v < lo:
                break
            if keep is None or keep(v):
                out.append(v)
            i -= 1
    else:
        start = 0 if cursor is None else bisect_right(ids, cursor)
        start = max(start, bisect_left(ids, lo))
        i, n = start, len(ids)
        while i < n and len(out) < limit:
            v = ids[i]
            if v >= hi:
                break
            if keep is None or keep(v):
                out.append(v)
            i += 1
    return out


class History:
    def __init__(self):
        self.ledgers: dict[int, dict] = {}       # seq -> record
        self.ledger_ids: list[int] = []          # paging tokens
        self.txs: dict[int, dict] = {}
        self.tx_ids: list[int] = []
        self.tx_by_hash: dict[str, int] = {}
        self.inner: dict[str, tuple[int, list]] = {}  # inner hash of a fee bump -> (token, inner signatures)
        self.ops: dict[int, dict] = {}
        self.op_ids: list[int] = []
        self.payment_ids: list[int] = []
        self.acct_txs: dict[str, list] = {}
        self.acct_ops: dict[str, list] = {}
        self.acct_payments: dict[str, list] = {}
        self.cb_txs: dict[str, list] = {}
        self.cb_ops: dict[str, list] = {}
        self.failed: set[int] = set()            # tokens of failed transactions

    def add_ledger(self, rec: dict):
        self.ledgers[rec["sequence"]] = rec
        self.ledger_ids.append(int(rec["paging_token"]))

    def add_tx(self, token: int, rec: dict, accounts, cbs, inner_hash=None, inner_sigs=None):
        self.txs[token] = rec
        self.tx_ids.append(token)
        self.tx_by_hash[rec["hash"]] = token
        if inner_hash:
            self.inner[inner_hash] = (token, inner_sigs)
        if not rec["successful"]:
            self.failed.add(token)
        for a in accounts:
            self.acct_txs.setdefault(a, []).append(token)
        for c in cbs:
            self.cb_txs.setdefault(c, []).append(token)

    def add_op(self, op_id: int, rec: dict, accounts, cbs, is_payment: bool):
        self.ops[op_id] = rec
        self.op_ids.append(op_id)
        for a in accounts:
            self.acct_ops.setdefault(a, []).append(op_id)
        if is_payment:
            self.payment_ids.append(op_id)
            for a in accounts:
                self.acct_payments.setdefault(a, []).append(op_id)
        for c in cbs:
            self.cb_ops.setdefault(c, []).append(op_id)

    def transaction(self, tx_hash: str) -> dict | None:
        token = self.tx_by_hash.get(tx_hash)
        if token is not None:
            return self.txs[token]
        if tx_hash in self.inner:
            token, sigs = self.inner[tx_hash]
            # Horizon answers an inner hash with the fee bump, seen from the inner transaction.
            return dict(self.txs[token], id=tx_hash, hash=tx_hash, signatures=sigs)
        return None

    def transactions(self, cursor, order, limit, account, ledger, claimable_balance, include_failed):
        ids, lo, hi = self.tx_ids, 0, 1 << 63
        if account is not None:
            ids = self.acct_txs.get(account, [])
        elif claimable_balance is not None:
            ids = self.cb_txs.get(claimable_balance, [])
        if ledger is not None:
            lo, hi = ledger << 32, (ledger + 1) << 32
        keep = None if include_failed or not self.failed else (lambda t: t not in self.failed)
        return [self.txs[t] for t in page(ids, cursor, order, limit, lo, hi, keep)]

    def operations(self, cursor, order, limit, account, ledger, tx_token, claimable_balance, payments_only,
                   include_failed):
        if account is not None:
            ids = (self.acct_payments if payments_only else self.acct_ops).get(account, [])
        elif claimable_balance is not None:
            ids = self.cb_ops.get(claimable_balance, [])
        else:
            ids = self.payment_ids if payments_only else self.op_ids
        lo, hi = 0, 1 << 63
        if ledger is not None:
            lo, hi = ledger << 32, (ledger + 1) << 32
        if tx_token is not None:
            lo, hi = max(lo, tx_token), min(hi, tx_token + 4096)
            include_failed = True  # a transaction's own operations are listed whatever its outcome
        failed = self.failed
        keep = None if include_failed or not failed else (lambda o: (o & ~0xFFF) not in failed)
        if payments_only and claimable_balance is not None:
            base = keep
            keep = lambda o: self.ops[o]["type"] in PAYMENT_NAMES and (base is None or base(o))  # noqa: E731
        return [self.ops[o] for o in page(ids, cursor, order, limit, lo, hi, keep)]

    def ledger_page(self, cursor, order, limit) -> list[dict]:
        return [self.ledgers[t >> 32] for t in page(self.ledger_ids, cursor, order, limit)]
