"""Paying out received withdrawals and sends off-chain: claim, mark, call once; then poll until delivered.

Invariant 2 -- ``execute_outgoing_transaction`` runs at most once per transaction -- holds because:
- the watcher queues a payout only when it matches the Stellar payment, and ``Payout`` is unique per
  transaction, so a transaction is queued at most once;
- a worker claims a batch (``queued -> claimed``; ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
  conditional ``UPDATE`` elsewhere), then, per payout, commits the mark ``claimed -> started`` with a
  conditional update BEFORE calling the integration, and calls only if that update changed the row;
- nothing ever moves ``started`` back: the outcome is ``done`` (the integration moved the transaction on)
  or ``parked`` (it raised, it returned without changing the status, or its worker died with the mark
  committed). A parked payout is never called again automatically; its transaction goes to ``error`` with
  a ``status_message`` saying why (unless the integration had already moved it elsewhere), for a person,
  who may release it for exactly one more execution once the bank shows no payment for it
  (``release_parked_payout``: the admin action and the ``release_parked_payout`` command).
- ``claimed`` rows are safe to hand back (the call never began): rows whose worker is gone, or whose lease
  expired, go back to ``queued``; the owner's ``claimed -> started`` update then no longer matches.

A worker dead after the mark is detected exactly on PostgreSQL: the worker holds a session advisory lock
on the payout from before the mark until the outcome is committed, so a lock anyone else can take means
its holder's connection (process) is gone. Elsewhere (SQLite, one host): the owner's pid no longer runs, or
the mark is older than ``STALE_AFTER``.

The transaction id is the idempotency key: AnchorRails passes it to the bank, so even a person releasing a
parked payout by mistake cannot make it pay twice at a bank that honours it.

``poll_outgoing_transactions`` hands ``pending_external`` withdrawals and sends to the integration and moves
the returned ones to ``completed``; completing is idempotent (a completed transaction stays completed).
"""

import logging
import os
import signal
import socket
import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from polaris.engine.transitions import acting_as, change_status
from polaris.integrations import RailsIntegration, registered_rails
from polaris.models import Payout, PayoutRelease, Transaction
from polaris.workers.wakeup import notify

logger = logging.getLogger("polaris.engine.payouts")

PAYOUT_CHANNEL = "polaris_payouts"
EXECUTE_ACTOR = "execute_outgoing_transactions"
POLL_ACTOR = "poll_outgoing_transactions"
S = Transaction.STATUS
K = Transaction.KIND
OUTGOING_KINDS = (K.withdrawal, K.withdrawal_exchange, K.send)
# The status a paid withdrawal/send waits in for its payout (set by the watcher).
AWAITING_PAYOUT = {K.withdrawal: S.pending_anchor, K.withdrawal_exchange: S.pending_anchor, K.send: S.pending_receiver}
CLAIM_LEASE = timedelta(seconds=60)
STALE_AFTER = timedelta(minutes=10)
# PostgreSQL advisory lock keys (bigint form) for "a worker is executing payout N": BASE + payout id.
PAYOUT_LOCK_BASE = 0x2F50_0000_0000_0000

# Who this process is, recorded on every claim: host, pid, and a random part (pids are reused).
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

# Test-only crash points: ``POLARIS_PAYOUTS_FAILPOINT=after_poll|after_complete`` makes the poller SIGKILL
# itself once the integration returned / once the first completion is written, so tests can prove recovery.
FAILPOINT_ENV = "POLARIS_PAYOUTS_FAILPOINT"


def queue_payout(transaction: Transaction, *, ledger_closed_at: datetime | None = None) -> Payout:
    """Queues ``transaction``'s payout in the caller's database transaction and wakes an executor on commit."""
    payout = Payout.objects.create(transaction=transaction, ledger_closed_at=ledger_closed_at)
    notify(PAYOUT_CHANNEL)
    return payout


# ---- execute -------------------------------------------------------------------------------------------------


def execute_outgoing_transactions(batch: int = 20) -> int:
    """One pass: recover what crashed workers left, claim up to ``batch`` payouts, execute each once."""
    if type(registered_rails()).execute_outgoing_transaction is RailsIntegration.execute_outgoing_transaction:
        logger.error("no RailsIntegration with execute_outgoing_transaction is registered; nothing executed")
        return 0
    park_interrupted()
    requeue_abandoned_claims()
    handled = 0
    for payout_id in claim_payouts(batch):
        handled += execute_payout(payout_id)
    return handled


def claim_payouts(batch: int) -> list[int]:
    """``queued -> claimed`` for up to ``batch`` payouts; returns the ids this worker now owns."""
    now = timezone.now()
    queued = Payout.objects.filter(state=Payout.STATE.queued).order_by("queued_at", "id")
    if connection.vendor == "postgresql":
        with db_transaction.atomic():
            ids = list(queued.select_for_update(skip_locked=True).values_list("id", flat=True)[:batch])
            Payout.objects.filter(id__in=ids).update(state=Payout.STATE.claimed, claimed_by=WORKER_ID, claimed_at=now)
        return ids
    # One UPDATE statement is atomic on its own; the state condition keeps two workers from both winning.
    Payout.objects.filter(state=Payout.STATE.queued, id__in=queued.values("id")[:batch]).update(
        state=Payout.STATE.claimed, claimed_by=WORKER_ID, claimed_at=now
    )
    return list(
        Payout.objects.filter(state=Payout.STATE.claimed, claimed_by=WORKER_ID, claimed_at=now).values_list(
            "id", flat=True
        )
    )


def execute_payout(payout_id: int) -> int:
    """Marks the payout started (committed), calls the integration once, commits the outcome. 1 if called."""
    with _executing_lock(payout_id) as locked:
        if not locked:
            return 0  # someone is recovering it right now; the claim lease hands it back later
        marked = Payout.objects.filter(id=payout_id, state=Payout.STATE.claimed, claimed_by=WORKER_ID).update(
            state=Payout.STATE.started, started_at=timezone.now()
        )
        if not marked:
            return 0  # the claim was handed back (lease expired); another worker may own it now
        # The mark is committed (autocommit). From here on this payout is never called again automatically.
        payout = Payout.objects.select_related("transaction__asset").get(id=payout_id)
        transaction = payout.transaction
        status_before = transaction.status
        error = ""
        try:
            with acting_as(EXECUTE_ACTOR):
                registered_rails().execute_outgoing_transaction(transaction)
        except Exception as exc:  # the integration's failure, whatever it is: park, never retry
            logger.exception("execute_outgoing_transaction raised for %s; parked for review", transaction.id)
            error = f"execute_outgoing_transaction raised {type(exc).__name__}: {exc}"
        status_after = Transaction.objects.values_list("status", flat=True).get(id=transaction.id)
        if not error and status_after == status_before:
            error = "execute_outgoing_transaction returned without changing the status"
        _record_outcome(payout, status_after, error)
    return 1


def _record_outcome(payout: Payout, status_after: str, error: str) -> None:
    with db_transaction.atomic():
        state = Payout.STATE.parked if error else Payout.STATE.done
        updated = Payout.objects.filter(id=payout.id, state=Payout.STATE.started).update(
            state=state, finished_at=timezone.now(), status_after=status_after, error=error
        )
        if updated and error:
            _park_transaction(payout.transaction_id, error)
    if error:
        logger.error("payout of %s parked: %s", payout.transaction_id, error)
    else:
        logger.info("payout of %s executed: %s", payout.transaction_id, status_after)


def _park_transaction(transaction_id, error: str) -> None:
    """Makes a parked payout visible on its transaction: ``error`` with the reason, if it still awaits payout."""
    transaction = Transaction.objects.select_for_update().get(id=transaction_id)
    if transaction.status == AWAITING_PAYOUT.get(transaction.kind):
        change_status(
            transaction, S.error, actor=EXECUTE_ACTOR, reason=error,
            status_message=f"payout needs review, it will not be retried automatically: {error}",
        )  # fmt: skip


class _executing_lock:
    """PostgreSQL: the session advisory lock saying "a live worker is executing this payout"."""

    def __init__(self, payout_id: int):
        self.key = PAYOUT_LOCK_BASE + payout_id
        self.held = False

    def __enter__(self) -> bool:
        if connection.vendor != "postgresql":
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            self.held = bool(cursor.fetchone()[0])
        return self.held

    def __exit__(self, *exc) -> None:
        if self.held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])


def park_interrupted() -> int:
    """Parks payouts whose worker died after the mark, or whose pass failed after it (this worker's own,
    left over from an earlier pass: passes run one at a time): the call may or may not have happened."""
    parked = 0
    for payout in Payout.objects.filter(state=Payout.STATE.started):
        if connection.vendor == "postgresql":
            # Our own session takes its own lock again, so a leftover of this worker counts as interrupted.
            with _executing_lock(payout.id) as owner_gone:
                if owner_gone:
                    parked += _park_interrupted(payout)
        elif (
            payout.claimed_by == WORKER_ID
            or _owner_gone(payout.claimed_by)
            or payout.started_at < timezone.now() - STALE_AFTER
        ):
            parked += _park_interrupted(payout)
    return parked


def _park_interrupted(payout: Payout) -> int:
    error = f"the worker {payout.claimed_by} stopped or failed during execute_outgoing_transaction"
    status_after = Transaction.objects.values_list("status", flat=True).get(id=payout.transaction_id)
    with db_transaction.atomic():
        updated = Payout.objects.filter(id=payout.id, state=Payout.STATE.started).update(
            state=Payout.STATE.parked, finished_at=timezone.now(), status_after=status_after, error=error
        )
        if updated:
            _park_transaction(payout.transaction_id, error)
    if updated:
        logger.error("payout of %s parked: %s", payout.transaction_id, error)
    return updated


def requeue_abandoned_claims() -> int:
    """``claimed -> queued`` for claims whose worker is gone or whose lease expired (never started)."""
    # Called between batches, so this worker's own claims left over from an earlier pass are abandoned too.
    claimed = Payout.objects.filter(state=Payout.STATE.claimed).only("id", "claimed_by", "claimed_at")
    abandoned = [
        payout.id
        for payout in claimed
        if payout.claimed_by == WORKER_ID
        or _owner_gone(payout.claimed_by)
        or payout.claimed_at < timezone.now() - CLAIM_LEASE
    ]
    return Payout.objects.filter(id__in=abandoned, state=Payout.STATE.claimed).update(
        state=Payout.STATE.queued, claimed_by="", claimed_at=None
    )


def _owner_gone(worker_id: str) -> bool:
    """True when ``worker_id`` ran on this host and its process no longer exists."""
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ---- release ---------------------------------------------------------------------------------------------------


class PayoutReleaseRefused(Exception):
    """A parked payout was not released; the message says why. Nothing was written."""


def release_parked_payout(transaction_id, *, operator: str, bank_did_not_pay: bool) -> Transaction:
    """Sends the parked payout of ``transaction_id`` back to the queue for one more execution; returns the
    transaction, back in the status that awaits payout.

    A payout is parked when nobody knows whether the bank paid: the integration raised, returned without
    changing the status, or its worker died after the "started" mark. Only a person who checked that the
    bank has no payment for this transaction can say it is safe to call ``execute_outgoing_transaction``
    again, so ``bank_did_not_pay`` must be true. The transaction id stays the bank's idempotency key: even
    a wrong release cannot pay twice at a bank that honours it (AnchorRails' sandbox bank returns the first
    payment).

    In one database transaction, with the payout and transaction rows locked (so that two operators
    releasing at once release it once): the parked attempt is kept as a ``PayoutRelease`` by ``operator``,
    the payout goes ``parked -> queued`` with its attempt fields cleared, and the transaction goes
    ``error -> pending_anchor`` (``pending_receiver`` for a send) through ``change_status`` with
    ``operator`` as the actor. A waiting executor is woken on commit.

    Raises ``PayoutReleaseRefused`` when the bank's payment is not ruled out, when there is no parked
    payout for the transaction, or when the transaction is no longer in ``error`` (someone handled it).
    """
    if not operator:
        raise PayoutReleaseRefused(f"transaction {transaction_id}: say who releases the payout")
    if not bank_did_not_pay:
        raise PayoutReleaseRefused(
            f"transaction {transaction_id}: first confirm that the bank has no payment for this transaction"
        )
    with db_transaction.atomic():
        # Payout row first, then the transaction row: the order the executor locks them in.
        payout = Payout.objects.select_for_update().filter(transaction_id=transaction_id).first()
        if payout is None:
            raise PayoutReleaseRefused(f"transaction {transaction_id} has no payout")
        if payout.state != Payout.STATE.parked:
            raise PayoutReleaseRefused(f"the payout of {transaction_id} is {payout.state}, not parked")
        transaction = Transaction.objects.select_for_update().get(id=transaction_id)
        if transaction.status != S.error:
            raise PayoutReleaseRefused(
                f"transaction {transaction_id} is {transaction.status}, not error: it was handled since its "
                "payout was parked"
            )
        PayoutRelease.objects.create(
            payout=payout, released_by=operator, parked_error=payout.error, parked_worker=payout.claimed_by,
            parked_started_at=payout.started_at, parked_at=payout.finished_at,
        )  # fmt: skip
        Payout.objects.filter(id=payout.id).update(
            state=Payout.STATE.queued, claimed_by="", claimed_at=None, started_at=None, finished_at=None,
            status_after="", error="",
        )  # fmt: skip
        change_status(
            transaction, AWAITING_PAYOUT[transaction.kind], actor=operator, status_message="",
            reason="payout released for one more execution: the bank has no payment for this transaction",
        )  # fmt: skip
        notify(PAYOUT_CHANNEL)
    logger.warning("payout of %s released for one more execution by %s", transaction_id, operator)
    return transaction


# ---- poll ------------------------------------------------------------------------------------------------------


def poll_outgoing_transactions(batch: int = 100) -> int:
    """One pass: ``pending_external`` withdrawals and sends to the integration; returned ones -> completed.

    PostgreSQL: the batch is row-locked (``SKIP LOCKED``) for the pass, so two pollers never poll the same
    transaction at once. Elsewhere the poll runs unlocked (a long write transaction would block every other
    writer on SQLite); completing stays idempotent because each completion re-reads the status under lock.
    """
    pending = Transaction.objects.filter(kind__in=OUTGOING_KINDS, status=S.pending_external).order_by("updated_at")
    if connection.vendor == "postgresql":
        with db_transaction.atomic():
            ids = list(pending.select_for_update(skip_locked=True).values_list("id", flat=True)[:batch])
            return _poll(ids)
    return _poll(list(pending.values_list("id", flat=True)[:batch]))


def _poll(ids: list) -> int:
    if not ids:
        return 0
    queryset = Transaction.objects.filter(id__in=ids).select_related("asset")
    with acting_as(POLL_ACTOR):
        delivered = registered_rails().poll_outgoing_transactions(queryset)
    _failpoint("after_poll")
    if not isinstance(delivered, (list, tuple)) or not all(isinstance(t, Transaction) for t in delivered):
        logger.error("poll_outgoing_transactions must return a list of Transaction; got %r", delivered)
        return 0
    completed = 0
    wanted = set(ids)
    for returned in delivered:
        if returned.id not in wanted:
            logger.error("poll_outgoing_transactions returned %s, which it was not given; ignored", returned.id)
            continue
        with db_transaction.atomic():
            transaction = Transaction.objects.select_for_update().get(id=returned.id)
            if transaction.status == S.pending_external:
                change_status(transaction, S.completed, actor=POLL_ACTOR, reason="delivered off-chain")
                completed += 1
        _failpoint("after_complete")
    return completed


def _failpoint(name: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
