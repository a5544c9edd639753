"""Which status changes a transaction may make, and the one path every change goes through.

Every change of ``Transaction.status`` -- from ``change_status()`` or from integration code that sets
``transaction.status`` and calls ``save()`` as django-polaris' documentation does -- is checked against
the table below for the transaction's kind and recorded as a ``TransactionStatusChange`` in the same
database transaction as the change. The current status is read from the database with a row lock
(``SELECT ... FOR UPDATE``) rather than trusted from the instance, so a stale object cannot silently undo
another process's change. An invalid change raises ``InvalidTransition`` and writes nothing.

Who made the change comes from ``acting_as(actor)``, which workers wrap around their work and around the
integration calls they make; a change made outside it is recorded as ``unattributed``. The reason is the
one given to ``acting_as``/``change_status``, else the new ``status_message`` when the save changed it.

Creation is recorded (``from_status`` is empty) but not restricted beyond the statuses the kind uses, so
SEP endpoints, imports and test fixtures can create a transaction at the status it starts in. Bulk
``QuerySet.update()``/``bulk_update()`` of ``status`` are refused: they would skip the check and the record.

Many transactions at once: ``change_status_many()`` moves a batch to one status in one database transaction
-- one locking read of the current statuses, the same check for every row, one UPDATE per distinct set of
written values, one insert of all history rows -- instead of a lock, a full-row save and an insert per
transaction. It is all or nothing: if any row's move is not allowed from the status the database holds,
``InvalidTransition`` is raised for the first such row and nothing is written. It is the only writer allowed
through ``TransactionQuerySet.write_checked_statuses`` (it holds ``STATUS_WRITE_PERMIT``).

On every save ``updated_at`` moves; entering ``completed`` or ``refunded`` sets ``completed_at``; entering a
status that does not wait on the user clears ``user_action_required_by``. A batch gets one timestamp for
all of these and for its history rows.

Both signals are sent inside the database transaction after the records are written, so a receiver (the
callback outbox) commits or rolls back together with the change: ``status_changes_recorded`` once per write
with every change it made (the outbox writes its rows in bulk from it), then ``status_changed`` once per
change, in the batch's order.

Allowed transitions ("->" lists the statuses reachable from the left one; terminal statuses:
completed, refunded, expired, no_market, too_small, too_large):

deposit, deposit-exchange
  incomplete                       -> pending_user, pending_anchor, pending_user_transfer_start,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      too_small, too_large, expired, error
  pending_user                     -> pending_anchor, pending_user_transfer_start, expired, error
  pending_customer_info_update,
  pending_transaction_info_update  -> pending_anchor, pending_user_transfer_start, expired, error
  pending_user_transfer_start      -> pending_anchor, pending_external, on_hold, pending_trust, pending_stellar,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      too_small, too_large, expired, refunded, error
  pending_external                 -> pending_anchor, on_hold, pending_trust, pending_stellar,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      expired, refunded, error
  on_hold                          -> pending_anchor, pending_external, pending_user_transfer_start, refunded, error
  pending_anchor                   -> pending_user, pending_user_transfer_start, pending_external, on_hold,
                                      pending_trust, pending_stellar, completed, pending_customer_info_update,
                                      pending_transaction_info_update, no_market, too_small, too_large,
                                      refunded, error
  pending_trust                    -> pending_anchor, pending_stellar, completed, expired, refunded, error
  pending_stellar                  -> completed, pending_anchor, pending_trust, error
  error                            -> pending_anchor, refunded

withdrawal, withdrawal-exchange
  incomplete                       -> pending_user, pending_anchor, pending_user_transfer_start,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      too_small, too_large, expired, error
  pending_user                     -> pending_anchor, pending_user_transfer_start, expired, error
  pending_customer_info_update,
  pending_transaction_info_update  -> pending_anchor, pending_user_transfer_start, expired, refunded, error
  pending_user_transfer_start      -> pending_anchor, on_hold, pending_customer_info_update,
                                      pending_transaction_info_update, expired, refunded, error
  on_hold                          -> pending_anchor, pending_external, refunded, error
  pending_anchor                   -> pending_user, pending_user_transfer_start, pending_external,
                                      pending_user_transfer_complete, completed, on_hold,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      too_small, too_large, refunded, error
  pending_external                 -> completed, pending_anchor, pending_customer_info_update,
                                      pending_transaction_info_update, refunded, error
  pending_user_transfer_complete   -> completed, refunded, error
  error                            -> pending_anchor, refunded

send (SEP-31)
  pending_receiver                 -> pending_sender, pending_external, pending_stellar, completed,
                                      pending_customer_info_update, pending_transaction_info_update,
                                      expired, refunded, error
  pending_sender                   -> pending_receiver, pending_customer_info_update,
                                      pending_transaction_info_update, expired, refunded, error
  pending_customer_info_update,
  pending_transaction_info_update  -> pending_receiver, pending_sender, expired, refunded, error
  pending_external                 -> completed, pending_receiver, pending_customer_info_update,
                                      pending_transaction_info_update, refunded, error
  pending_stellar                  -> completed, pending_receiver, refunded, error
  error                            -> pending_receiver, refunded

``error`` is not terminal: a person (or the engine, after review) may send the transaction back to
``pending_anchor``/``pending_receiver`` for another attempt, or record a refund.
"""

import contextvars
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from django.db import router
from django.db import transaction as db_transaction
from django.dispatch import Signal
from django.utils import timezone

from polaris.models import Transaction, TransactionStatusChange

S = Transaction.STATUS
K = Transaction.KIND

TERMINAL = frozenset({S.completed, S.refunded, S.expired, S.no_market, S.too_small, S.too_large})
# Statuses in which the user (or wallet, or sending anchor) must act; user_action_required_by applies.
AWAITING_USER = frozenset(
    {
        S.incomplete,
        S.pending_user,
        S.pending_user_transfer_start,
        S.pending_user_transfer_complete,
        S.pending_customer_info_update,
        S.pending_transaction_info_update,
        S.pending_trust,
        S.pending_sender,
    }
)
_INFO_UPDATES = {S.pending_customer_info_update, S.pending_transaction_info_update}

_DEPOSIT = {
    S.incomplete: {S.pending_user, S.pending_anchor, S.pending_user_transfer_start, *_INFO_UPDATES,
                   S.too_small, S.too_large, S.expired, S.error},
    S.pending_user: {S.pending_anchor, S.pending_user_transfer_start, S.expired, S.error},
    S.pending_customer_info_update: {S.pending_anchor, S.pending_user_transfer_start, S.expired, S.error},
    S.pending_transaction_info_update: {S.pending_anchor, S.pending_user_transfer_start, S.expired, S.error},
    S.pending_user_transfer_start: {S.pending_anchor, S.pending_external, S.on_hold, S.pending_trust,
                                    S.pending_stellar, *_INFO_UPDATES, S.too_small, S.too_large, S.expired,
                                    S.refunded, S.error},
    S.pending_external: {S.pending_anchor, S.on_hold, S.pending_trust, S.pending_stellar, *_INFO_UPDATES,
                         S.expired, S.refunded, S.error},
    S.on_hold: {S.pending_anchor, S.pending_external, S.pending_user_transfer_start, S.refunded, S.error},
    S.pending_anchor: {S.pending_user, S.pending_user_transfer_start, S.pending_external, S.on_hold,
                       S.pending_trust, S.pending_stellar, S.completed, *_INFO_UPDATES, S.no_market,
                       S.too_small, S.too_large, S.refunded, S.error},
    S.pending_trust: {S.pending_anchor, S.pending_stellar, S.completed, S.expired, S.refunded, S.error},
    S.pending_stellar: {S.completed, S.pending_anchor, S.pending_trust, S.error},
    S.error: {S.pending_anchor, S.refunded},
}

_WITHDRAWAL = {
    S.incomplete: {S.pending_user, S.pending_anchor, S.pending_user_transfer_start, *_INFO_UPDATES,
                   S.too_small, S.too_large, S.expired, S.error},
    S.pending_user: {S.pending_anchor, S.pending_user_transfer_start, S.expired, S.error},
    S.pending_customer_info_update: {S.pending_anchor, S.pending_user_transfer_start, S.expired, S.refunded,
                                     S.error},
    S.pending_transaction_info_update: {S.pending_anchor, S.pending_user_transfer_start, S.expired,
                                        S.refunded, S.error},
    S.pending_user_transfer_start: {S.pending_anchor, S.on_hold, *_INFO_UPDATES, S.expired, S.refunded,
                                    S.error},
    S.on_hold: {S.pending_anchor, S.pending_external, S.refunded, S.error},
    S.pending_anchor: {S.pending_user, S.pending_user_transfer_start, S.pending_external,
                       S.pending_user_transfer_complete, S.completed, S.on_hold, *_INFO_UPDATES,
                       S.too_small, S.too_large, S.refunded, S.error},
    S.pending_external: {S.completed, S.pending_anchor, *_INFO_UPDATES, S.refunded, S.error},
    S.pending_user_transfer_complete: {S.completed, S.refunded, S.error},
    S.error: {S.pending_anchor, S.refunded},
}

_SEND = {
    S.pending_receiver: {S.pending_sender, S.pending_external, S.pending_stellar, S.completed, *_INFO_UPDATES,
                         S.expired, S.refunded, S.error},
    S.pending_sender: {S.pending_receiver, *_INFO_UPDATES, S.expired, S.refunded, S.error},
    S.pending_customer_info_update: {S.pending_receiver, S.pending_sender, S.expired, S.refunded, S.error},
    S.pending_transaction_info_update: {S.pending_receiver, S.pending_sender, S.expired, S.refunded, S.error},
    S.pending_external: {S.completed, S.pending_receiver, *_INFO_UPDATES, S.refunded, S.error},
    S.pending_stellar: {S.completed, S.pending_receiver, S.refunded, S.error},
    S.error: {S.pending_receiver, S.refunded},
}

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    kind: {status: frozenset(targets) for status, targets in table.items()}
    for kinds, table in (
        ((K.deposit, K.deposit_exchange), _DEPOSIT),
        ((K.withdrawal, K.withdrawal_exchange), _WITHDRAWAL),
        ((K.send,), _SEND),
    )
    for kind in kinds
}

# The statuses each kind uses: every status in its table, as a source or a target.
STATUSES_BY_KIND: dict[str, frozenset[str]] = {
    kind: frozenset(table).union(*table.values()) for kind, table in TRANSITIONS.items()
}

DEFAULT_INITIAL_STATUS = {
    K.deposit: S.incomplete,
    K.deposit_exchange: S.incomplete,
    K.withdrawal: S.incomplete,
    K.withdrawal_exchange: S.incomplete,
    K.send: S.pending_sender,
}

UNATTRIBUTED = "unattributed"

status_changed = Signal()  # sender=Transaction, transaction=..., change=TransactionStatusChange
# sender=Transaction, changes=[(transaction, change), ...]: every change of one write, each transaction once.
status_changes_recorded = Signal()

# What lets change_status_many (and nothing else) write ``status`` through the QuerySet: it has checked
# every row under a lock and records every change in the same database transaction.
STATUS_WRITE_PERMIT = object()


class InvalidTransition(Exception):
    """A status change the transaction's kind does not allow; nothing was written."""

    def __init__(self, transaction: Transaction, from_status: str | None, to_status: str):
        self.transaction_id = transaction.pk
        self.kind = transaction.kind
        self.from_status = from_status
        self.to_status = to_status
        if to_status not in STATUSES_BY_KIND.get(transaction.kind, ()):
            detail = f"a {transaction.kind} transaction never has status {to_status!r}"
        else:
            allowed = sorted(TRANSITIONS.get(transaction.kind, {}).get(from_status, ()))
            detail = (
                f"{transaction.kind} transaction {transaction.pk}: {from_status} -> {to_status} is not allowed "
                f"(allowed from {from_status}: {', '.join(allowed) or 'nothing, it is terminal'})"
            )
        super().__init__(detail)


def is_allowed(kind: str, from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(kind, {}).get(from_status, ())


@dataclass(frozen=True)
class _Acting:
    actor: str
    reason: str


_acting: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("polaris_acting", default=None)


@contextmanager
def acting_as(actor: str, reason: str = "") -> Iterator[None]:
    """Attribute every status change made inside the block (including by integration code) to ``actor``."""
    token = _acting.set(_Acting(actor, reason))
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor() -> str:
    acting = _acting.get()
    return acting.actor if acting else UNATTRIBUTED


def change_status(transaction: Transaction, to: str, *, actor: str, reason: str = "", **fields) -> None:
    """Move ``transaction`` to status ``to``, setting ``fields`` too, validated and recorded in one commit.

    On ``InvalidTransition`` (or any failure) the instance gets its previous values back. This is a full
    ``save()``: whatever else the caller set on the instance is written too, as integration code expects.
    """
    names = _field_names({"status", *fields})
    previous = {name: getattr(transaction, name) for name in names}
    for name, value in {**fields, "status": to}.items():
        setattr(transaction, name, value)
    try:
        with acting_as(actor, reason):
            transaction.save()
    except BaseException:
        for name, value in previous.items():
            setattr(transaction, name, value)
        raise


def change_status_many(
    transactions: Iterable[Transaction],
    to: str,
    *,
    actor: str,
    reason: str = "",
    fields: dict | None = None,
    fields_by_id: dict | None = None,
    reasons_by_id: dict | None = None,
) -> None:
    """Move every transaction to ``to`` in one database transaction, validated and recorded as one by one.

    ``fields`` are set on every transaction, ``fields_by_id[pk]`` on that one (winning over ``fields``);
    ``reasons_by_id[pk]`` replaces ``reason`` in that transaction's history row.
    Only those fields, ``status`` and the status side effects are written, not the whole row. All or
    nothing: an ``InvalidTransition`` (or any failure) writes nothing and gives the instances their previous
    values back. A row whose status already is ``to`` gets its fields but no history row, as ``save()`` does.
    """
    transactions = list(transactions)
    if not transactions:
        return
    fields, fields_by_id, reasons_by_id = fields or {}, fields_by_id or {}, reasons_by_id or {}
    pks = [transaction.pk for transaction in transactions]
    if None in pks or len(set(pks)) != len(pks):
        raise ValueError("change_status_many takes saved transactions, each once")
    values_by_id = {pk: {**fields, **fields_by_id.get(pk, {}), "status": to} for pk in pks}
    names = _field_names(set().union(*values_by_id.values()) | {"updated_at", "completed_at",
                                                                "user_action_required_by"})
    previous = [{name: getattr(transaction, name) for name in names} for transaction in transactions]
    using = router.db_for_write(Transaction, instance=transactions[0])
    try:
        with db_transaction.atomic(using=using), acting_as(actor, reason):
            current = _locked_statuses(using, pks)
            now = timezone.now()
            changes, updates = [], defaultdict(list)
            for transaction in transactions:
                if transaction.pk not in current:
                    raise Transaction.DoesNotExist(f"transaction {transaction.pk} does not exist")
                from_status, previous_message = current[transaction.pk]
                for name, value in values_by_id[transaction.pk].items():
                    setattr(transaction, name, value)
                transaction.updated_at = now
                written = {*values_by_id[transaction.pk], "updated_at"}
                if transaction.status != from_status:
                    _validate(transaction, from_status)
                    written |= _apply_status_side_effects(transaction, now)
                    changes.append((transaction, from_status, previous_message,
                                    reasons_by_id.get(transaction.pk, reason)))
                updates[tuple(sorted(written))].append(transaction)
            for written_fields, rows in updates.items():
                Transaction.objects.using(using).write_checked_statuses(STATUS_WRITE_PERMIT, rows, written_fields)
            _record(using, changes, now)
    except BaseException:
        for transaction, values in zip(transactions, previous):
            for name, value in values.items():
                setattr(transaction, name, value)
        raise


def save_transaction(transaction: Transaction, save: Callable[..., None], *args, **kwargs) -> None:
    """``Transaction.save()``: validate and record a status change around the model's own save."""
    using = kwargs.get("using") or router.db_for_write(Transaction, instance=transaction)
    update_fields = kwargs.get("update_fields")
    touches_status = update_fields is None or "status" in update_fields
    with db_transaction.atomic(using=using):
        from_status = previous_message = None
        if transaction._state.adding:
            transaction.status = transaction.status or DEFAULT_INITIAL_STATUS.get(transaction.kind, "")
            changed = True
        elif touches_status:
            # No row: Django will insert one, so this is a creation.
            from_status, previous_message = _locked_statuses(using, [transaction.pk]).get(transaction.pk, (None, None))
            changed = from_status is None or transaction.status != from_status
        else:
            changed = False

        extra_fields = {"updated_at"}
        if changed:
            _validate(transaction, from_status)
            extra_fields |= _apply_status_side_effects(transaction, timezone.now())
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | extra_fields
        save(*args, **kwargs)
        if changed:
            acting = _acting.get()
            reason = acting.reason if acting else ""
            _record(using, [(transaction, from_status, previous_message, reason)], timezone.now())


def _field_names(names: set[str]) -> set[str]:
    concrete = Transaction._meta.concrete_fields
    unknown = names - {field.attname for field in concrete} - {field.name for field in concrete}
    if unknown:
        raise TypeError(f"Transaction has no fields {sorted(unknown)}")
    return names


def _locked_statuses(using: str, pks: list) -> dict:
    """``{pk: (status, status_message)}`` as the database holds them, rows locked until the commit.

    PostgreSQL locks the rows (``SELECT ... FOR UPDATE``); SQLite ignores it, its write transaction being
    exclusive already."""
    rows = Transaction.objects.using(using).select_for_update().filter(pk__in=pks)
    return {pk: (status, message) for pk, status, message in rows.values_list("pk", "status", "status_message")}


def _record(using: str, changes: list, at) -> None:
    """The history rows of changes just written, then the signals, in the same database transaction.

    ``changes``: ``(transaction, from_status, previous status_message, reason given)``. Without a given
    reason, the new ``status_message`` is the reason when the change altered it."""
    if not changes:
        return
    actor = current_actor()
    rows = []
    for transaction, from_status, previous_message, reason in changes:
        if not reason and transaction.status_message != previous_message:
            reason = transaction.status_message or ""
        rows.append(TransactionStatusChange(transaction=transaction, from_status=from_status,
                                            to_status=transaction.status, at=at, actor=actor, reason=reason))
    TransactionStatusChange.objects.using(using).bulk_create(rows)
    recorded = [(change[0], row) for change, row in zip(changes, rows)]
    status_changes_recorded.send(sender=Transaction, changes=recorded)
    for transaction, row in recorded:
        status_changed.send(sender=Transaction, transaction=transaction, change=row)


def _validate(transaction: Transaction, from_status: str | None) -> None:
    to_status = str(transaction.status)
    if to_status not in STATUSES_BY_KIND.get(transaction.kind, ()) or (
        from_status is not None and not is_allowed(transaction.kind, from_status, to_status)
    ):
        raise InvalidTransition(transaction, from_status, to_status)


def _apply_status_side_effects(transaction: Transaction, now) -> set[str]:
    if transaction.status in (S.completed, S.refunded) and transaction.completed_at is None:
        transaction.completed_at = now
    if transaction.status not in AWAITING_USER:
        transaction.user_action_required_by = None
    return {"completed_at", "user_action_required_by"}
