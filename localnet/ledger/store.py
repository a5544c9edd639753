"""Persistence in one SQLite file: each ledger close is one SQLite transaction, so a crash loses at most
the ledger being closed and never leaves state and history out of step."""
import base64
import json
import os
import sqlite3

from .codec import g, parse_g
from .outcome import TxResult
from .state import Account, ClaimableBalance, Trustline

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cbs (id TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledgers (seq INTEGER PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txs (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ops (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
"""


def _asset_out(a):
    return None if a is None else [a[0], g(a[1])]


def _asset_in(a):
    return None if a is None else (a[0], parse_g(a[1]))


def _b64(b):
    return None if b is None else base64.b64encode(b).decode()


def _unb64(s):
    return None if s is None else base64.b64decode(s)


def _account_out(st, acc: Account) -> str:
    d = {s: getattr(acc, s) for s in Account.__slots__}
    d["id"] = g(acc.id)
    d["inflation_dest"] = acc.inflation_dest and g(acc.inflation_dest)
    d["signers"] = [[t, k, _b64(b), _b64(p), w] for t, k, b, p, w in acc.signers]
    lines = []
    for a in acc.lines:
        tl = st.lines[(acc.id, a)]
        lines.append([_asset_out(a), tl.balance, tl.limit, tl.flags, tl.last_modified])
    d["lines"] = lines
    d["data_names"] = [[n, _b64(st.data[(acc.id, n)])] for n in acc.data_names]
    return json.dumps(d)


def _account_in(st, text: str):
    d = json.loads(text)
    raw = parse_g(d["id"])
    acc = Account(raw, 0, 0, 0)
    for s in Account.__slots__:
        setattr(acc, s, d[s])
    acc.id = raw
    acc.inflation_dest = d["inflation_dest"] and parse_g(d["inflation_dest"])
    acc.signers = tuple((t, k, _unb64(b), _unb64(p), w) for t, k, b, p, w in d["signers"])
    lines = []
    for a, bal, lim, flags, lm in d["lines"]:
        asset = _asset_in(a)
        st.lines[(raw, asset)] = Trustline(bal, lim, flags, lm)
        lines.append(asset)
    acc.lines = tuple(lines)
    names = []
    for n, v in d["data_names"]:
        st.data[(raw, n)] = _unb64(v)
        names.append(n)
    acc.data_names = tuple(names)
    st.accounts[raw] = acc


def _cb_out(cb: ClaimableBalance) -> str:
    return json.dumps({"id": cb.id, "asset": _asset_out(cb.asset), "amount": cb.amount,
                       "claimants": [[g(d), p] for d, p in cb.claimants], "sponsor": g(cb.sponsor),
                       "flags": cb.flags, "last_modified": cb.last_modified})


def _cb_in(text: str) -> ClaimableBalance:
    d = json.loads(text)
    return ClaimableBalance(d["id"], _asset_in(d["asset"]), d["amount"],
                            [(parse_g(a), p) for a, p in d["claimants"]], parse_g(d["sponsor"]), d["flags"],
                            d["last_modified"])


class Store:
    def __init__(self, data_dir: str):
        os.makedirs(data_dir, exist_ok=True)
        self.conn = sqlite3.connect(os.path.join(data_dir, "localnet.sqlite3"), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    def load(self, net) -> bool:
        """Fill an empty Network from the file; False when the file holds no network yet."""
        c = self.conn
        meta = dict(c.execute("SELECT k, v FROM meta"))
        if not meta:
            return False
        if meta["passphrase"] != net.passphrase:
            raise ValueError(f"data dir holds the network {meta['passphrase']!r}, not {net.passphrase!r}")
        st, hist = net.state, net.history
        for (text,) in c.execute("SELECT v FROM accounts"):
            _account_in(st, text)
        for (text,) in c.execute("SELECT v FROM cbs"):
            cb = _cb_in(text)
            st.cbs[cb.id] = cb
        for (text,) in c.execute("SELECT v FROM ledgers ORDER BY seq"):
            hist.add_ledger(json.loads(text))
        for token, text in c.execute("SELECT id, v FROM txs ORDER BY id"):
            rec, accounts, cbs, inner_hash, inner_sigs, codes = json.loads(text)
            hist.add_tx(token, rec, accounts, cbs, inner_hash, inner_sigs)
            net._results[rec["hash"]] = TxResult(rec["successful"], rec["result_xdr"], codes)
        for op_id, text in c.execute("SELECT id, v FROM ops ORDER BY id"):
            rec, accounts, cbs, is_payment = json.loads(text)
            hist.add_op(op_id, rec, accounts, cbs, is_payment)
        net.ledger_seq = int(meta["ledger_seq"])
        net.last_hash = bytes.fromhex(meta["last_hash"])
        net.last_close = int(meta["last_close"])
        net.fee_pool = int(meta["fee_pool"])
        return True

    def save(self, net, tx_rows: list, op_rows: list):
        """Write one closed ledger: its dirty entries, its history rows and the header fields, atomically."""
        st = net.state
        c = self.conn
        c.execute("BEGIN")
        try:
            for raw in st.dirty_accounts:
                acc = st.accounts.get(raw)
                if acc is None:
                    c.execute("DELETE FROM accounts WHERE id = ?", (g(raw),))
                else:
                    c.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (g(raw), _account_out(st, acc)))
            for bid in st.dirty_cbs:
                cb = st.cbs.get(bid)
                if cb is None:
                    c.execute("DELETE FROM cbs WHERE id = ?", (bid,))
                else:
                    c.execute("INSERT OR REPLACE INTO cbs VALUES (?, ?)", (bid, _cb_out(cb)))
            rec = net.history.ledgers[net.ledger_seq]
            c.execute("INSERT OR REPLACE INTO ledgers VALUES (?, ?)", (net.ledger_seq, json.dumps(rec)))
            c.executemany("INSERT INTO txs VALUES (?, ?)",
                          [(row[0], json.dumps(row[1:])) for row in tx_rows])
            c.executemany("INSERT INTO ops VALUES (?, ?)",
                          [(row[0], json.dumps(row[1:])) for row in op_rows])
            meta = {"passphrase": net.passphrase, "ledger_seq": net.ledger_seq, "last_hash": net.last_hash.hex(),
                    "last_close": net.last_close, "fee_pool": net.fee_pool}
            c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
