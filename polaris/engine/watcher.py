"""The gap-free watcher: payments to distribution accounts, recorded once each, matched to their transactions.

Invariant 3 -- every payment that reaches a distribution account is recorded exactly once, matched or kept
for review -- holds because, for each Horizon record, ``record_payment`` does all of this in ONE database
transaction: insert it into the inbox (``ReceivedPayment.operation_id`` is unique, so a replay changes
nothing), match it, move the matched transaction on and queue its payout, and advance the account's stored
cursor. A crash before the commit loses nothing (the cursor did not move, the record is read again); a crash
after it repeats nothing (the cursor moved, and a replay hits the unique operation id).

Streams always resume from the stored cursor, never from ``now`` (only the very first start of an account
uses ``now``, resolved at once to a concrete cursor and stored). One leader per account on PostgreSQL: a
session advisory lock; other instances stand by and take over when the leader's connection goes away.

Matching (``match_payment``):
- only operations that credit the account (payment, path payments; ``to`` is the account) are recorded;
  outgoing payments (deposits) and other operations only advance the cursor;
- a muxed destination (M...) matches the transaction whose ``receiving_anchor_account`` is that M address;
  otherwise the memo value AND memo type must match (``id`` compared as an integer, ``hash`` in base64
  whatever encoding the transaction stored, ``text`` exactly); for a fee-bump the memo is the inner
  transaction's, which Horizon's joined transaction shows at top level;
- the transaction must be waiting for the payment: a withdrawal (or withdrawal-exchange) in
  ``pending_user_transfer_start`` or a send in ``pending_sender``;
- asset code and issuer must be the transaction's; the amount credited is ``amount`` (for
  ``path_payment_strict_send`` too, never ``source_amount``) and must be at least ``amount_expected`` when
  that is set: an overpayment matches and ``amount_in`` records it exactly, an underpayment is kept for
  review so that a payout is never computed on money that did not arrive.
Anything else is kept as ``unmatched`` with its reason (see ``ReceivedPayment.REASON``).
"""

import base64
import binascii
import json
import logging
import threading
import zlib
from decimal import Decimal
from typing import Iterator

import requests
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.utils.dateparse import parse_datetime

from polaris.conf import settings
from polaris.engine.payouts import queue_payout
from polaris.engine.transitions import change_status
from polaris.models import Asset, ReceivedPayment, StreamCursor, Transaction

logger = logging.getLogger("polaris.engine.watcher")

ACTOR = "watch_transactions"
PAYMENT_TYPES = ("payment", "path_payment_strict_send", "path_payment_strict_receive")
OUTGOING_KINDS = (Transaction.KIND.withdrawal, Transaction.KIND.withdrawal_exchange, Transaction.KIND.send)
# Status a transaction waits in for its Stellar payment, and the status the payment moves it to.
AWAITING_PAYMENT = {
    Transaction.KIND.withdrawal: Transaction.STATUS.pending_user_transfer_start,
    Transaction.KIND.withdrawal_exchange: Transaction.STATUS.pending_user_transfer_start,
    Transaction.KIND.send: Transaction.STATUS.pending_sender,
}
PAID = {
    Transaction.KIND.withdrawal: Transaction.STATUS.pending_anchor,
    Transaction.KIND.withdrawal_exchange: Transaction.STATUS.pending_anchor,
    Transaction.KIND.send: Transaction.STATUS.pending_receiver,
}
PAGE_LIMIT = 200
# PostgreSQL advisory lock class for "leader of the payments stream of one account" ("PW").
LEADER_LOCK_CLASS = 0x5057
REASON = ReceivedPayment.REASON


def distribution_accounts() -> list[str]:
    """Every distinct distribution account: two assets sharing one account share one stream."""
    accounts = Asset.objects.exclude(distribution_account__isnull=True).exclude(distribution_account="")
    return sorted(set(accounts.values_list("distribution_account", flat=True)))


def horizon_url(path: str) -> str:
    return settings.HORIZON_URI.rstrip("/") + path


# ---- the cursor ----------------------------------------------------------------------------------------


def stored_cursor(account: str, start: str = "now") -> str:
    """The account's stored cursor; on the very first start, ``start`` ("now" or a paging token), stored.

    "now" is resolved to the paging token of the account's latest payment (or "0" when it has none) and
    stored before streaming, so a restart never uses "now" again and never skips what arrived meanwhile.
    """
    row = StreamCursor.objects.filter(account=account).first()
    if row is not None:
        return row.cursor
    if start == "now":
        response = requests.get(
            horizon_url(f"/accounts/{account}/payments"), params={"order": "desc", "limit": 1}, timeout=10
        )
        if response.status_code == 404:
            start = "0"
        else:
            response.raise_for_status()
            records = response.json()["_embedded"]["records"]
            start = records[0]["paging_token"] if records else "0"
    StreamCursor.objects.get_or_create(account=account, defaults={"cursor": str(int(start))})
    return StreamCursor.objects.get(account=account).cursor


def _advance_cursor(account: str, paging_token: str) -> None:
    """Moves the cursor forward (never back: two instances racing cannot rewind it)."""
    row = StreamCursor.objects.select_for_update().filter(account=account).first()
    if row is None:
        StreamCursor.objects.create(account=account, cursor=paging_token)
    elif int(paging_token) > int(row.cursor):
        row.cursor = paging_token
        row.save(update_fields=["cursor", "updated_at"])


# ---- recording and matching ------------------------------------------------------------------------------


def record_payment(account: str, record: dict) -> ReceivedPayment | None:
    """Records one Horizon payments-stream record for ``account`` in one database transaction.

    Returns the inbox row when it was recorded now; ``None`` for a replay or an operation that does not
    credit the account (the cursor advances either way).
    """
    with db_transaction.atomic():
        recorded = None
        if record.get("type") in PAYMENT_TYPES and record.get("to") == account:
            try:
                with db_transaction.atomic():
                    recorded = _record_and_match(account, record)
            except IntegrityError:
                if not ReceivedPayment.objects.filter(operation_id=record["id"]).exists():
                    raise
                recorded = None  # a replay: the first recording stands
        _advance_cursor(account, record["paging_token"])
    if recorded is not None:
        logger.info(
            "payment op %s: %s %s to %s memo %s:%s -> %s %s %s",
            recorded.operation_id, recorded.amount, recorded.asset_code, recorded.to_address,
            recorded.memo_type, recorded.memo, recorded.status, recorded.reason or "", recorded.transaction_id or "",
        )  # fmt: skip
    return recorded


def _record_and_match(account: str, record: dict) -> ReceivedPayment:
    tx = record.get("transaction") or {}
    payment = ReceivedPayment.objects.create(
        operation_id=record["id"],
        account=account,
        transaction_hash=record["transaction_hash"],
        operation_type=record["type"],
        successful=bool(record.get("transaction_successful", tx.get("successful", True))),
        from_address=record.get("from_muxed") or record.get("from"),
        to_address=record.get("to_muxed") or record["to"],
        asset_type=record["asset_type"],
        asset_code=record.get("asset_code"),
        asset_issuer=record.get("asset_issuer"),
        amount=Decimal(record["amount"]),
        memo=tx.get("memo"),
        memo_type=tx.get("memo_type", "none"),
        ledger_closed_at=parse_datetime(record["created_at"]),
        status=ReceivedPayment.STATUS.unmatched,
        record={key: value for key, value in record.items() if key != "_links"} | {"transaction": _unlinked(tx)},
    )
    transaction, reason = match_payment(account, payment)
    if transaction is None:
        payment.reason = reason
        payment.save(update_fields=["reason"])
        return payment
    change_status(
        transaction,
        PAID[transaction.kind],
        actor=ACTOR,
        reason=f"Stellar payment {payment.transaction_hash} op {payment.operation_id} received",
        amount_in=payment.amount,
        stellar_transaction_id=payment.transaction_hash,
        from_address=payment.from_address,
    )
    queue_payout(transaction, ledger_closed_at=payment.ledger_closed_at)
    payment.status = ReceivedPayment.STATUS.matched
    payment.transaction = transaction
    payment.save(update_fields=["status", "transaction"])
    return payment


def _unlinked(tx: dict) -> dict:
    return {key: value for key, value in tx.items() if key != "_links"}


def match_payment(account: str, payment: ReceivedPayment) -> tuple[Transaction | None, str]:
    """The transaction ``payment`` pays (row-locked), or ``None`` and the reason it is kept for review."""
    if not payment.successful:
        return None, REASON.failed
    candidates = Transaction.objects.select_for_update().select_related("asset").filter(kind__in=OUTGOING_KINDS)
    found = []
    if payment.to_address.startswith("M"):
        found = list(candidates.filter(receiving_anchor_account=payment.to_address))
    if not found:
        forms = memo_forms(payment.memo_type, payment.memo)
        if not forms:
            return None, REASON.no_transaction
        found = list(
            candidates.filter(receiving_anchor_account=account, memo_type=payment.memo_type, memo__in=forms)
        )
    if not found:
        return None, REASON.no_transaction
    waiting = [t for t in found if t.status == AWAITING_PAYMENT[t.kind]]
    if not waiting:
        if ReceivedPayment.objects.filter(transaction__in=found, status=ReceivedPayment.STATUS.matched).exists():
            return None, REASON.already_paid
        return None, REASON.not_awaiting
    if len(waiting) > 1:
        return None, REASON.ambiguous
    transaction = waiting[0]
    if (payment.asset_code, payment.asset_issuer) != (transaction.asset.code, transaction.asset.issuer):
        return None, REASON.wrong_asset
    if transaction.amount_expected is not None and payment.amount < transaction.amount_expected:
        return None, REASON.amount_below_expected
    return transaction, REASON.none


def memo_forms(memo_type: str, memo: str | None) -> list[str]:
    """Every spelling of ``memo`` a transaction may have stored, for an exact indexed lookup.

    ``id``: the decimal integer. ``hash``: Horizon sends base64; a transaction may hold base64 or hex.
    ``text``: the text itself. No memo (or ``return``) matches nothing.
    """
    if memo is None:
        return []
    if memo_type == "id":
        return [str(int(memo))]
    if memo_type == "text":
        return [memo]
    if memo_type == "hash":
        try:
            raw = base64.b64decode(memo, validate=True)
        except (binascii.Error, ValueError):
            return [memo]
        return [base64.b64encode(raw).decode(), raw.hex(), raw.hex().upper()]
    return []


# ---- reading Horizon ---------------------------------------------------------------------------------------


def catch_up(account: str, start: str = "now") -> int:
    """Records every payment after the stored cursor, page by page, until Horizon has no more (one pass)."""
    recorded = 0
    while True:
        response = requests.get(
            horizon_url(f"/accounts/{account}/payments"),
            params={"cursor": stored_cursor(account, start), "order": "asc", "limit": PAGE_LIMIT,
                    "join": "transactions"},
            timeout=30,
        )  # fmt: skip
        response.raise_for_status()
        records = response.json()["_embedded"]["records"]
        for record in records:
            recorded += record_payment(account, record) is not None
        if len(records) < PAGE_LIMIT:
            return recorded


def stream_records(account: str, cursor: str, stop: threading.Event) -> Iterator[dict]:
    """Horizon's SSE payments stream of ``account`` after ``cursor``, with transactions joined.

    Ends (returns) when the server closes the stream; raises on HTTP and network errors. The caller resumes
    from its stored cursor, so nothing here needs to remember where it was.
    """
    with requests.get(
        horizon_url(f"/accounts/{account}/payments"),
        params={"cursor": cursor, "join": "transactions"},
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=(10, 60),  # the server sends a keep-alive comment every 15 s
    ) as response:
        response.raise_for_status()
        data: list[str] = []
        for raw in response.iter_lines(chunk_size=None):
            if stop.is_set():
                return
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif line == "" and data:
                payload = json.loads("\n".join(data))
                data = []
                if isinstance(payload, dict):  # the opening "hello" is a bare string
                    yield payload


class AccountStream(threading.Thread):
    """Streams one account forever: leads (PostgreSQL advisory lock) or stands by, reconnects on errors.

    ``busy`` is held while a record is being recorded, so ``Watcher.stop()`` can wait for the current
    database transaction to finish; a stream blocked on the network holds nothing and may simply end with
    the process (the thread is a daemon).
    """

    RETRY_SECONDS = 0.5
    STANDBY_SECONDS = 2.0

    def __init__(self, account: str, stop: threading.Event, start_cursor: str):
        super().__init__(name=f"watch-{account[:8]}", daemon=True)
        self.account = account
        self.stop = stop
        self.start_cursor = start_cursor
        self.busy = threading.Lock()
        self._leading = False

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    if not self._lead():
                        self.stop.wait(self.STANDBY_SECONDS)
                        continue
                    cursor = stored_cursor(self.account, self.start_cursor)
                    for record in stream_records(self.account, cursor, self.stop):
                        with self.busy:
                            if self.stop.is_set():
                                return
                            record_payment(self.account, record)
                    # The server closed the stream (or we are stopping): resume from the stored cursor.
                except Exception:
                    logger.exception("stream of %s failed; resuming from the stored cursor", self.account)
                    self._leading = False
                    connection.close()
                    self.stop.wait(self.RETRY_SECONDS)
        finally:
            connection.close()

    def _lead(self) -> bool:
        """PostgreSQL: hold the account's advisory lock on this thread's connection. Others: always lead."""
        if connection.vendor != "postgresql":
            return True
        if self._leading and connection.connection is not None:
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LEADER_LOCK_CLASS, _account_key(self.account)])
            self._leading = bool(cursor.fetchone()[0])
        if self._leading:
            logger.info("leading the payments stream of %s", self.account)
        return self._leading


def _account_key(account: str) -> int:
    return zlib.crc32(account.encode()) & 0x7FFFFFFF


class Watcher:
    """Keeps one ``AccountStream`` per distribution account; ``refresh()`` picks up newly added accounts."""

    def __init__(self, start_cursor: str = "now"):
        self.start_cursor = start_cursor
        self.stop_event = threading.Event()
        self.streams: dict[str, AccountStream] = {}

    def refresh(self) -> int:
        for account in distribution_accounts():
            stream = self.streams.get(account)
            if stream is None or not stream.is_alive():
                stream = AccountStream(account, self.stop_event, self.start_cursor)
                self.streams[account] = stream
                stream.start()
        return 0

    def stop(self, timeout: float = 10.0) -> None:
        """Stops every stream between records: waits for a record being recorded to commit."""
        self.stop_event.set()
        for stream in self.streams.values():
            if stream.busy.acquire(timeout=timeout):
                stream.busy.release()
            stream.join(timeout=0.5)
