"""Ledger entries and the undo log that lets a failed transaction roll its operations back."""
# account flags
AUTH_REQUIRED, AUTH_REVOCABLE, AUTH_IMMUTABLE, AUTH_CLAWBACK = 1, 2, 4, 8
# trustline flags
AUTHORIZED, AUTHORIZED_TO_MAINTAIN, TL_CLAWBACK = 1, 2, 4

MISSING = object()


class Account:
    """An account entry. Tuple fields are replaced, never mutated, so a shallow copy is a snapshot."""
    __slots__ = ("id", "balance", "seq", "subentries", "num_sponsoring", "flags", "home_domain",
                 "inflation_dest", "master_weight", "low", "med", "high", "signers", "lines", "data_names",
                 "last_modified", "seq_ledger", "seq_time")

    def __init__(self, raw: bytes, balance: int, seq: int, ledger: int):
        self.id = raw
        self.balance = balance
        self.seq = seq
        self.subentries = 0
        self.num_sponsoring = 0
        self.flags = 0
        self.home_domain = ""
        self.inflation_dest = None
        self.master_weight, self.low, self.med, self.high = 1, 0, 0, 0
        self.signers: tuple = ()  # (type name, strkey, key bytes, payload or None, weight), sorted by strkey
        self.lines: tuple = ()    # asset keys of the trustlines, in creation order
        self.data_names: tuple = ()
        self.last_modified = ledger
        self.seq_ledger = 0
        self.seq_time = 0

    def copy(self) -> "Account":
        c = Account.__new__(Account)
        for s in Account.__slots__:
            setattr(c, s, getattr(self, s))
        return c


class Trustline:
    __slots__ = ("balance", "limit", "flags", "last_modified")

    def __init__(self, balance: int, limit: int, flags: int, ledger: int):
        self.balance, self.limit, self.flags, self.last_modified = balance, limit, flags, ledger

    def copy(self) -> "Trustline":
        return Trustline(self.balance, self.limit, self.flags, self.last_modified)


class ClaimableBalance:
    """Immutable once created: claiming deletes it."""
    __slots__ = ("id", "asset", "amount", "claimants", "sponsor", "flags", "last_modified")

    def __init__(self, bid, asset, amount, claimants, sponsor, flags, ledger):
        self.id, self.asset, self.amount, self.claimants = bid, asset, amount, claimants
        self.sponsor, self.flags, self.last_modified = sponsor, flags, ledger


class State:
    """All entries, with copy-on-write journaling while a transaction's operations run.

    begin() starts journaling; rollback() restores every entry the operations touched; commit() keeps
    them. Outside a transaction (fees, sequence numbers) writes go straight through.
    """

    def __init__(self):
        self.accounts: dict[bytes, Account] = {}
        self.lines: dict[tuple, Trustline] = {}
        self.data: dict[tuple, bytes] = {}
        self.cbs: dict[str, ClaimableBalance] = {}
        self.dirty_accounts: set[bytes] = set()
        self.dirty_cbs: set[str] = set()
        self._log: list | None = None
        self._touched: set = set()

    # -- journaling
    def begin(self):
        self._log = []
        self._touched = set()

    def commit(self):
        self._log = None

    def rollback(self):
        for d, k, old in reversed(self._log):
            if old is MISSING:
                d.pop(k, None)
            else:
                d[k] = old
        self._log = None

    def _journal(self, d: dict, k):
        """Record the entry's value before its first change in this transaction; True if first."""
        if self._log is None:
            return False
        tk = (id(d), k)
        if tk in self._touched:
            return False
        self._touched.add(tk)
        self._log.append((d, k, d.get(k, MISSING)))
        return True

    # -- accounts
    def wacc(self, raw: bytes) -> Account:
        """The account, writable."""
        acc = self.accounts[raw]
        self.dirty_accounts.add(raw)
        if self._journal(self.accounts, raw):
            acc = self.accounts[raw] = acc.copy()
        return acc

    def put_account(self, acc: Account):
        self._journal(self.accounts, acc.id)
        self.accounts[acc.id] = acc
        self.dirty_accounts.add(acc.id)

    def del_account(self, raw: bytes):
        self._journal(self.accounts, raw)
        del self.accounts[raw]
        self.dirty_accounts.add(raw)

    # -- trustlines
    def wline(self, raw: bytes, asset) -> Trustline:
        k = (raw, asset)
        tl = self.lines[k]
        self.dirty_accounts.add(raw)
        if self._journal(self.lines, k):
            tl = self.lines[k] = tl.copy()
        return tl

    def put_line(self, raw: bytes, asset, tl: Trustline):
        self._journal(self.lines, (raw, asset))
        self.lines[(raw, asset)] = tl
        self.dirty_accounts.add(raw)

    def del_line(self, raw: bytes, asset):
        self._journal(self.lines, (raw, asset))
        del self.lines[(raw, asset)]
        self.dirty_accounts.add(raw)

    # -- data
    def put_data(self, raw: bytes, name: str, value: bytes | None):
        self._journal(self.data, (raw, name))
        if value is None:
            del self.data[(raw, name)]
        else:
            self.data[(raw, name)] = value
        self.dirty_accounts.add(raw)

    # -- claimable balances
    def put_cb(self, cb: ClaimableBalance):
        self._journal(self.cbs, cb.id)
        self.cbs[cb.id] = cb
        self.dirty_cbs.add(cb.id)

    def del_cb(self, bid: str):
        self._journal(self.cbs, bid)
        del self.cbs[bid]
        self.dirty_cbs.add(bid)
