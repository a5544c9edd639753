"""The bank's books: accounts, transfers, payments and refunds in one SQLite file.

Plain synchronous code, called from the server's single event-loop thread, so each method is one SQLite
transaction and nothing needs a lock. Amounts are kept as decimal strings and computed with `Decimal`:
a bank that rounds through floats could not prove that money moved exactly once.
"""

import json
import logging
import re
import sqlite3
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal

log = logging.getLogger("sandbox_bank")
ANCHOR_ACCOUNT = "anchor"
# Stellar's largest amount (int64 stroops): the anchor never needs to pay more, so nothing larger is valid.
MAX_AMOUNT = Decimal("922337203685.4775807")
_AMOUNT_RE = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,7})?$")
_CURRENCY_RE = re.compile(r"^[A-Z0-9]{3,12}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, balance TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY, from_account TEXT NOT NULL, to_account TEXT NOT NULL, amount TEXT NOT NULL,
    currency TEXT NOT NULL, reference TEXT NOT NULL COLLATE NOCASE, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS transfers_to_reference ON transfers (to_account, reference);
CREATE INDEX IF NOT EXISTS transfers_from ON transfers (from_account);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, from_account TEXT NOT NULL, to_account TEXT NOT NULL, amount TEXT NOT NULL,
    currency TEXT NOT NULL, memo TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT, created_at REAL NOT NULL,
    settle_at REAL NOT NULL, settled_at REAL);
CREATE INDEX IF NOT EXISTS payments_due ON payments (status, settle_at);
CREATE INDEX IF NOT EXISTS payments_to ON payments (to_account);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL COLLATE NOCASE, amount TEXT NOT NULL,
    currency TEXT NOT NULL, beneficiary TEXT NOT NULL, reason TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_reference ON refunds (reference);
"""


class BankError(Exception):
    """A refusal the API reports as `{"error": message}` with this HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_amount(value, field: str = "amount") -> Decimal:
    """A positive decimal string with at most 7 decimals; JSON numbers are refused so no float sneaks in."""
    if not isinstance(value, str) or not _AMOUNT_RE.match(value):
        raise BankError(400, f"{field} must be a positive decimal string with at most 7 decimals, e.g. \"10.50\"")
    amount = Decimal(value)
    if amount <= 0 or amount > MAX_AMOUNT:
        raise BankError(400, f"{field} must be greater than 0 and at most {MAX_AMOUNT}")
    return amount


def format_amount(amount: Decimal) -> str:
    """At least two decimals, no trailing zeros beyond them, never an exponent: "10.00", "0.1234567"."""
    text = format(amount.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Bank:
    """The ledger. Payments settle lazily: `settle_due()` runs before every request, so any reader sees the
    books as of now without a background timer, and a delay of 0 means "on the next read"."""

    def __init__(self, path: str, settle_after: float = 2.0, anchor_currency: str = "USD"):
        self.settle_after = settle_after
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        with self._tx():
            if self._account_row(ANCHOR_ACCOUNT) is None:
                self.db.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, 'anchor', 'open', '0', ?)",
                    (ANCHOR_ACCOUNT, "Anchor operating account", anchor_currency, time.time()),
                )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self):
        """BEGIN IMMEDIATE ... COMMIT/ROLLBACK: a request's changes land entirely or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # accounts

    def _account_row(self, account_id: str):
        return self.db.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()

    def _account_or_404(self, account_id: str):
        row = self._account_row(account_id)
        if row is None:
            raise BankError(404, f"no account {account_id!r}")
        return row

    def _credit(self, account_id: str, amount: Decimal) -> None:
        balance = Decimal(self._account_row(account_id)["balance"]) + amount
        self.db.execute("UPDATE accounts SET balance = ? WHERE id = ?", (str(balance), account_id))

    @staticmethod
    def _account_json(row) -> dict:
        return {
            "id": row["id"], "name": row["name"], "currency": row["currency"], "kind": row["kind"],
            "status": row["status"], "balance": format_amount(Decimal(row["balance"])),
            "created_at": _iso(row["created_at"]),
        }

    def create_account(self, name: str, currency: str) -> dict:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise BankError(400, "name must be a non-empty string of at most 200 characters")
        if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
            raise BankError(400, "currency must be 3 to 12 upper-case letters or digits, e.g. \"USD\"")
        account_id = _new_id("acc")
        with self._tx():
            self.db.execute(
                "INSERT INTO accounts VALUES (?, ?, ?, 'customer', 'open', '0', ?)",
                (account_id, name.strip(), currency, time.time()),
            )
        return self.get_account(account_id)

    def get_account(self, account_id: str) -> dict:
        return self._account_json(self._account_or_404(account_id))

    def list_accounts(self) -> list[dict]:
        return [self._account_json(r) for r in self.db.execute("SELECT * FROM accounts ORDER BY rowid")]

    def deposit_cash(self, account_id: str, amount: Decimal) -> dict:
        with self._tx():
            row = self._account_or_404(account_id)
            if row["status"] != "open":
                raise BankError(422, f"account {account_id!r} is closed")
            self._credit(account_id, amount)
        return self.get_account(account_id)

    def close_account(self, account_id: str) -> dict:
        if account_id == ANCHOR_ACCOUNT:
            raise BankError(422, "the anchor account cannot be closed")
        with self._tx():
            self._account_or_404(account_id)
            self.db.execute("UPDATE accounts SET status = 'closed' WHERE id = ?", (account_id,))
        return self.get_account(account_id)

    # transfers: a customer moves money now, e.g. to the anchor with the deposit's reference

    @staticmethod
    def _transfer_json(row) -> dict:
        return {
            "id": row["id"], "from_account": row["from_account"], "to_account": row["to_account"],
            "amount": format_amount(Decimal(row["amount"])), "currency": row["currency"],
            "reference": row["reference"], "status": "completed", "created_at": _iso(row["created_at"]),
        }

    def create_transfer(self, from_account: str, to_account: str, amount: Decimal, currency: str,
                        reference: str) -> dict:
        if from_account == to_account:
            raise BankError(422, "from_account and to_account must differ")
        transfer_id = _new_id("tr")
        with self._tx():
            for field, account_id in (("from_account", from_account), ("to_account", to_account)):
                row = self._account_row(account_id)
                if row is None:
                    raise BankError(422, f"{field} {account_id!r} does not exist")
                if row["status"] != "open":
                    raise BankError(422, f"{field} {account_id!r} is closed")
                if row["currency"] != currency:
                    raise BankError(422, f"{field} {account_id!r} holds {row['currency']}, not {currency}")
            source = self._account_row(from_account)
            if source["kind"] != "anchor" and Decimal(source["balance"]) < amount:
                raise BankError(422, f"insufficient funds in {from_account!r}")
            self._credit(from_account, -amount)
            self._credit(to_account, amount)
            self.db.execute(
                "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (transfer_id, from_account, to_account, str(amount), currency, reference, time.time()),
            )
        log.info("transfer %s: %s %s from %s to %s, reference %r", transfer_id, amount, currency, from_account,
                 to_account, reference)
        return self.get_transfer(transfer_id)

    def get_transfer(self, transfer_id: str) -> dict:
        row = self.db.execute("SELECT * FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
        if row is None:
            raise BankError(404, f"no transfer {transfer_id!r}")
        return self._transfer_json(row)

    def list_transfers(self, filters: dict) -> list[dict]:
        return [self._transfer_json(r) for r in self._select("transfers", filters)]

    def _select(self, table: str, filters: dict):
        """Rows matching every filter (column = value), oldest first. Column names come from the server's
        allow-lists, never from the client."""
        where = " AND ".join(f"{column} = ?" for column in filters) or "1"
        return self.db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid", tuple(filters.values()))

    # payments: the anchor pays out; initiated now, delivered or failed later

    @staticmethod
    def _payment_json(row) -> dict:
        return {
            "id": row["id"], "from_account": row["from_account"], "to_account": row["to_account"],
            "amount": format_amount(Decimal(row["amount"])), "currency": row["currency"], "memo": row["memo"],
            "idempotency_key": row["idempotency_key"], "status": row["status"],
            "failure_reason": row["failure_reason"], "created_at": _iso(row["created_at"]),
            "settled_at": _iso(row["settled_at"]),
        }

    def create_payment(self, to_account: str, amount: Decimal, currency: str | None, memo: str,
                       idempotency_key: str) -> tuple[dict, bool]:
        """Returns (payment, created). The anchor account is debited at once, so the money is held while
        the payment is in flight; delivery credits the payee, failure credits the anchor back."""
        with self._tx():
            anchor = self._account_row(ANCHOR_ACCOUNT)
            currency = currency or anchor["currency"]
            if currency != anchor["currency"]:
                raise BankError(422, f"the anchor account holds {anchor['currency']}, not {currency}")
            fingerprint = json.dumps([to_account, str(amount.normalize()), currency, memo])
            existing = self.db.execute(
                "SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            if existing is not None:
                if existing["fingerprint"] != fingerprint:
                    raise BankError(409, f"idempotency_key {idempotency_key!r} was used for payment "
                                         f"{existing['id']} with a different body")
                return self._payment_json(existing), False
            now = time.time()
            payment_id = _new_id("pay")
            self._credit(ANCHOR_ACCOUNT, -amount)
            self.db.execute(
                "INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'initiated', NULL, ?, ?, NULL)",
                (payment_id, ANCHOR_ACCOUNT, to_account, str(amount), currency, memo, idempotency_key,
                 fingerprint, now, now + self.settle_after),
            )
        log.info("payment %s initiated: %s %s to %s, key %r", payment_id, amount, currency, to_account,
                 idempotency_key)
        return self.get_payment(payment_id), True

    def get_payment(self, payment_id: str) -> dict:
        return self._payment_json(self._payment_or_404(payment_id))

    def _payment_or_404(self, payment_id: str):
        row = self.db.execute("SELECT * FROM payments WHERE id = ?", (payment_id,)).fetchone()
        if row is None:
            raise BankError(404, f"no payment {payment_id!r}")
        return row

    def list_payments(self, filters: dict) -> list[dict]:
        return [self._payment_json(r) for r in self._select("payments", filters)]

    def _why_undeliverable(self, payment) -> str | None:
        payee = self._account_row(payment["to_account"])
        if payee is None:
            return f"no account {payment['to_account']!r}"
        if payee["status"] != "open":
            return f"account {payment['to_account']!r} is closed"
        if payee["currency"] != payment["currency"]:
            return f"account {payment['to_account']!r} holds {payee['currency']}, not {payment['currency']}"
        return None

    def _settle(self, payment, status: str, reason: str | None) -> None:
        amount = Decimal(payment["amount"])
        self._credit(payment["to_account"] if status == "delivered" else payment["from_account"], amount)
        self.db.execute(
            "UPDATE payments SET status = ?, failure_reason = ?, settled_at = ? WHERE id = ?",
            (status, reason, time.time(), payment["id"]),
        )
        log.info("payment %s %s: %s %s to %s%s", payment["id"], status, payment["amount"], payment["currency"],
                 payment["to_account"], f" ({reason})" if reason else "")

    def settle_due(self) -> None:
        """Settles every initiated payment whose delay has passed: delivered if the payee can take it."""
        with self._tx():
            due = self.db.execute(
                "SELECT * FROM payments WHERE status = 'initiated' AND settle_at <= ? ORDER BY rowid",
                (time.time(),),
            ).fetchall()
            for payment in due:
                reason = self._why_undeliverable(payment)
                self._settle(payment, "failed" if reason else "delivered", reason)

    def settle_payment(self, payment_id: str, status: str, reason: str | None) -> dict:
        """The test hook: settle now with the chosen outcome. Repeating the same outcome is a no-op."""
        with self._tx():
            payment = self._payment_or_404(payment_id)
            if payment["status"] == status:
                return self._payment_json(payment)
            if payment["status"] != "initiated":
                raise BankError(409, f"payment {payment_id} is already {payment['status']}")
            if status == "delivered":
                undeliverable = self._why_undeliverable(payment)
                if undeliverable:
                    raise BankError(409, f"cannot deliver payment {payment_id}: {undeliverable}")
            self._settle(payment, status, reason or ("failed by request" if status == "failed" else None))
        return self.get_payment(payment_id)

    # refunds: a ticket asking operations to send money back over the rail it came in on

    @staticmethod
    def _refund_json(row) -> dict:
        return {
            "id": row["id"], "reference": row["reference"], "amount": format_amount(Decimal(row["amount"])),
            "currency": row["currency"], "beneficiary": row["beneficiary"], "reason": row["reason"],
            "idempotency_key": row["idempotency_key"], "status": row["status"],
            "created_at": _iso(row["created_at"]),
        }

    def create_refund(self, reference: str, amount: Decimal, currency: str | None, beneficiary: str,
                      reason: str, idempotency_key: str) -> tuple[dict, bool]:
        with self._tx():
            currency = currency or self._account_row(ANCHOR_ACCOUNT)["currency"]
            fingerprint = json.dumps([reference, str(amount.normalize()), currency, beneficiary, reason])
            existing = self.db.execute(
                "SELECT * FROM refunds WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            if existing is not None:
                if existing["fingerprint"] != fingerprint:
                    raise BankError(409, f"idempotency_key {idempotency_key!r} was used for refund "
                                         f"{existing['id']} with a different body")
                return self._refund_json(existing), False
            refund_id = _new_id("ref")
            self.db.execute(
                "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?)",
                (refund_id, reference, str(amount), currency, beneficiary, reason, idempotency_key,
                 fingerprint, time.time()),
            )
        return self.get_refund(refund_id), True

    def get_refund(self, refund_id: str) -> dict:
        row = self.db.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        if row is None:
            raise BankError(404, f"no refund {refund_id!r}")
        return self._refund_json(row)

    def list_refunds(self, filters: dict) -> list[dict]:
        return [self._refund_json(r) for r in self._select("refunds", filters)]
