"""change_status_many: a batch of status changes validated, written and recorded in one database transaction."""

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext
from stellar_sdk import Keypair

from polaris.engine.transitions import (
    STATUS_WRITE_PERMIT,
    InvalidTransition,
    change_status,
    change_status_many,
    status_changed,
    status_changes_recorded,
)
from polaris.models import Asset, Callback, StatusChangeRefused, Transaction, TransactionStatusChange
from polaris.tests.concurrency import contend_with_a_lock_holder

pytestmark = pytest.mark.django_db
S = Transaction.STATUS
K = Transaction.KIND
WALLET = "https://wallet.example.com/callback"


@pytest.fixture
def asset():
    return Asset.objects.create(code="USDC", issuer=Keypair.random().public_key)


def deposits(asset, count, status=S.pending_anchor, **fields):
    return [Transaction.objects.create(asset=asset, kind=K.deposit, status=status, **fields) for _ in range(count)]


def statuses(transactions):
    return [Transaction.objects.get(pk=t.pk).status for t in transactions]


def test_batch_moves_every_row_and_records_one_change_each_with_actor_and_reason(asset):
    batch = deposits(asset, 3) + deposits(asset, 1, status=S.pending_trust)
    claimable = batch[1]
    change_status_many(batch, S.completed, actor="process_pending_deposits", reason="paid in abc",
                       fields={"stellar_transaction_id": "ab" * 32},
                       fields_by_id={claimable.pk: {"claimable_balance_id": "00" * 36}})
    rows = Transaction.objects.in_bulk([t.pk for t in batch])
    for t in batch:
        row = rows[t.pk]
        assert (row.status, row.stellar_transaction_id) == (S.completed, "ab" * 32)
        assert row.claimable_balance_id == ("00" * 36 if t is claimable else None)
        assert row.completed_at is not None and row.completed_at == row.updated_at == t.completed_at
        change = t.status_changes.order_by("id").last()
        assert (change.from_status, change.to_status) == (S.pending_trust if t is batch[3] else S.pending_anchor,
                                                          S.completed)
        assert (change.actor, change.reason, change.at) == ("process_pending_deposits", "paid in abc", row.completed_at)
        assert t.status == S.completed  # the instances carry what was written
    assert TransactionStatusChange.objects.filter(to_status=S.completed).count() == 4


def test_each_row_may_have_its_own_reason_and_values(asset):
    batch = deposits(asset, 3)
    change_status_many(batch, S.completed, actor="process_pending_deposits", reason="paid",
                       fields_by_id={t.pk: {"stellar_transaction_id": f"{i:064x}"} for i, t in enumerate(batch)},
                       reasons_by_id={batch[0].pk: "paid in 0"})
    assert [t.status_changes.order_by("id").last().reason for t in batch] == ["paid in 0", "paid", "paid"]
    assert [Transaction.objects.get(pk=t.pk).stellar_transaction_id for t in batch] == [f"{i:064x}" for i in range(3)]


def test_batch_writes_outbox_rows_for_transactions_with_a_callback_url(asset):
    with_url = deposits(asset, 2, on_change_callback=WALLET)
    others = deposits(asset, 1, on_change_callback="postMessage") + deposits(asset, 1)
    Callback.objects.all().delete()  # the creation callbacks
    change_status_many(with_url + others, S.completed, actor="process_pending_deposits")
    callbacks = list(Callback.objects.order_by("id"))
    assert sorted(c.transaction_id for c in callbacks) == sorted(t.pk for t in with_url)
    assert all('"status": "completed"' in c.body and c.url == WALLET for c in callbacks)


def test_each_transactions_callbacks_keep_the_order_of_its_changes(asset):
    batch = deposits(asset, 3, status=S.pending_user_transfer_start, on_change_callback=WALLET)
    change_status_many(batch, S.pending_anchor, actor="test")
    change_status_many(batch, S.pending_stellar, actor="test")
    change_status(batch[0], S.completed, actor="test")
    for t in batch:
        bodies = Callback.objects.filter(transaction=t).order_by("id").values_list("body", flat=True)
        seen = [status for body in bodies for status in S.values if f'"status": "{status}"' in body]
        assert seen == [S.pending_user_transfer_start, S.pending_anchor, S.pending_stellar] + (
            [S.completed] if t is batch[0] else [])


def test_one_invalid_row_changes_nothing_and_restores_the_instances(asset):
    batch = deposits(asset, 2, on_change_callback=WALLET) + deposits(asset, 1, status=S.pending_user_transfer_start)
    before_callbacks = Callback.objects.count()
    with pytest.raises(InvalidTransition) as raised:
        change_status_many(batch, S.completed, actor="test", fields={"stellar_transaction_id": "cd" * 32})
    assert raised.value.transaction_id == batch[2].pk
    assert (raised.value.from_status, raised.value.to_status) == (S.pending_user_transfer_start, S.completed)
    assert statuses(batch) == [S.pending_anchor, S.pending_anchor, S.pending_user_transfer_start]
    assert not Transaction.objects.filter(stellar_transaction_id__isnull=False).exists()
    assert TransactionStatusChange.objects.count() == 3 and Callback.objects.count() == before_callbacks
    assert [(t.status, t.stellar_transaction_id, t.completed_at) for t in batch] == [
        (S.pending_anchor, None, None), (S.pending_anchor, None, None), (S.pending_user_transfer_start, None, None)
    ]


def test_a_failure_inside_rolls_everything_back(asset):
    batch = deposits(asset, 3, on_change_callback=WALLET)
    counts = (TransactionStatusChange.objects.count(), Callback.objects.count())

    def explode(**kwargs):
        raise RuntimeError("receiver failed after the rows were written")

    status_changed.connect(explode, dispatch_uid="explode")
    try:
        with pytest.raises(RuntimeError):
            change_status_many(batch, S.completed, actor="test")
    finally:
        status_changed.disconnect(dispatch_uid="explode")
    assert statuses(batch) == [S.pending_anchor] * 3
    assert (TransactionStatusChange.objects.count(), Callback.objects.count()) == counts
    assert all(t.status == S.pending_anchor and t.completed_at is None for t in batch)

    with pytest.raises(ZeroDivisionError), db_transaction.atomic():  # an enclosing transaction takes it along
        change_status_many(batch, S.completed, actor="test")
        1 / 0
    assert statuses(batch) == [S.pending_anchor] * 3
    assert (TransactionStatusChange.objects.count(), Callback.objects.count()) == counts


def test_a_status_changed_by_another_process_is_refused_as_by_the_single_path(asset):
    batch = deposits(asset, 3)
    other_process = Transaction.objects.get(pk=batch[1].pk)
    change_status(other_process, S.error, actor="admin:alice", reason="held for review")
    with pytest.raises(InvalidTransition) as raised:  # the instance still says pending_anchor
        change_status_many(batch, S.completed, actor="process_pending_deposits")
    assert (raised.value.transaction_id, raised.value.from_status) == (batch[1].pk, S.error)
    assert statuses(batch) == [S.pending_anchor, S.error, S.pending_anchor]
    with pytest.raises(InvalidTransition):  # and so does the single path, from the same stale instance
        change_status(batch[1], S.completed, actor="process_pending_deposits")


def test_only_the_named_fields_are_written_so_other_writers_changes_survive(asset):
    batch = deposits(asset, 2)
    Transaction.objects.filter(pk=batch[0].pk).update(external_transaction_id="bank-7")  # after our read
    batch[1].status_message = "never saved"
    change_status_many(batch, S.completed, actor="test")
    rows = Transaction.objects.in_bulk([t.pk for t in batch])
    assert rows[batch[0].pk].external_transaction_id == "bank-7"
    assert rows[batch[1].pk].status_message is None


def test_a_row_already_at_the_target_gets_its_fields_but_no_history(asset):
    (moving,) = deposits(asset, 1)
    (already,) = deposits(asset, 1, status=S.pending_trust)
    change_status_many([moving, already], S.pending_trust, actor="test", fields={"status_eta": 60})
    assert Transaction.objects.filter(status=S.pending_trust, status_eta=60).count() == 2
    assert already.status_changes.count() == 1 and moving.status_changes.count() == 2


def test_a_batch_costs_the_same_queries_whatever_its_size(asset):
    def queries(count):
        batch = deposits(asset, count, on_change_callback=WALLET)
        with CaptureQueriesContext(connection) as captured:
            change_status_many(batch, S.completed, actor="test", fields={"stellar_transaction_id": "ef" * 32})
        return len(captured)

    assert queries(3) == queries(60)


def test_bad_batches_are_refused_before_anything_is_read(asset):
    (t,) = deposits(asset, 1)
    with pytest.raises(ValueError):
        change_status_many([t, Transaction.objects.get(pk=t.pk)], S.completed, actor="test")
    with pytest.raises(ValueError):
        change_status_many([Transaction(asset=asset, kind=K.deposit, id=None)], S.completed, actor="test")
    with pytest.raises(TypeError):
        change_status_many([t], S.completed, actor="test", fields={"no_such_field": 1})
    assert statuses([t]) == [S.pending_anchor]


def test_status_is_written_in_bulk_only_through_the_validated_path(asset):
    (t,) = deposits(asset, 1)
    with pytest.raises(StatusChangeRefused):
        Transaction.objects.filter(pk=t.pk).update(status=S.completed)
    with pytest.raises(StatusChangeRefused):
        Transaction.objects.filter(pk=t.pk).write_checked_statuses(object(), [t], ("status",))
    with pytest.raises(StatusChangeRefused):
        Transaction.objects.filter(pk=t.pk).write_checked_statuses(None, [t], ("status",))
    assert statuses([t]) == [S.pending_anchor]
    assert STATUS_WRITE_PERMIT is not None


def test_the_batch_signal_fires_once_inside_the_database_transaction(asset):
    batch = deposits(asset, 4)
    seen = []

    def receiver(changes, **kwargs):
        seen.append(([(t.pk, c.to_status) for t, c in changes], connection.in_atomic_block))

    status_changes_recorded.connect(receiver, dispatch_uid="seen")
    try:
        change_status_many(batch, S.completed, actor="test")
    finally:
        status_changes_recorded.disconnect(dispatch_uid="seen")
    assert seen == [([(t.pk, S.completed) for t in batch], True)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_locking_read_waits_for_a_concurrent_change_and_then_refuses(asset):
    """PostgreSQL: another process holds a row lock, changes the status and commits; the batch, blocked on
    its locking read, then sees the new status and refuses the whole batch."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: the PostgreSQL run covers it")
    batch = deposits(asset, 3)

    def other_process():
        change_status(Transaction.objects.get(pk=batch[2].pk), S.error, actor="admin:alice")

    error = contend_with_a_lock_holder(
        other_process, lambda: change_status_many(batch, S.completed, actor="process_pending_deposits")
    )
    assert isinstance(error, InvalidTransition) and error.from_status == S.error
    assert statuses(batch) == [S.pending_anchor, S.pending_anchor, S.error]
