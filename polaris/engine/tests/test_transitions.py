from datetime import timedelta

import pytest
from django.db import transaction as db_transaction
from django.utils import timezone
from stellar_sdk import Keypair

from polaris.engine.transitions import (
    STATUSES_BY_KIND,
    TERMINAL,
    TRANSITIONS,
    UNATTRIBUTED,
    InvalidTransition,
    acting_as,
    change_status,
    status_changed,
)
from polaris.models import Asset, StatusChangeRefused, Transaction, TransactionStatusChange

pytestmark = pytest.mark.django_db
S = Transaction.STATUS
K = Transaction.KIND

HAPPY_PATHS = {
    K.deposit: [S.incomplete, S.pending_user_transfer_start, S.pending_anchor, S.pending_trust,
                S.pending_stellar, S.completed],
    K.deposit_exchange: [S.incomplete, S.pending_user_transfer_start, S.pending_anchor, S.completed],
    K.withdrawal: [S.incomplete, S.pending_user_transfer_start, S.pending_anchor, S.pending_external,
                   S.completed],
    K.withdrawal_exchange: [S.incomplete, S.pending_user_transfer_start, S.pending_anchor,
                            S.pending_user_transfer_complete, S.completed],
    K.send: [S.pending_receiver, S.pending_sender, S.pending_receiver, S.pending_customer_info_update,
             S.pending_receiver, S.pending_external, S.completed],
}

INVALID = {
    K.deposit: [(S.incomplete, S.completed), (S.pending_user_transfer_start, S.completed),
                (S.completed, S.pending_anchor), (S.pending_anchor, S.pending_sender)],
    K.deposit_exchange: [(S.refunded, S.pending_anchor), (S.pending_anchor, S.pending_user_transfer_complete)],
    K.withdrawal: [(S.pending_user_transfer_start, S.completed), (S.pending_anchor, S.pending_trust),
                   (S.expired, S.pending_anchor)],
    K.withdrawal_exchange: [(S.incomplete, S.pending_external), (S.completed, S.error)],
    K.send: [(S.pending_sender, S.completed), (S.pending_receiver, S.incomplete), (S.completed, S.refunded)],
}


@pytest.fixture
def asset():
    return Asset.objects.create(code="USDC", issuer=Keypair.random().public_key)


def history(tx):
    return list(tx.status_changes.order_by("at", "id").values_list("from_status", "to_status", "actor"))


def test_table_covers_every_kind_and_terminal_statuses_lead_nowhere():
    assert set(TRANSITIONS) == set(K.values)
    for kind, table in TRANSITIONS.items():
        assert STATUSES_BY_KIND[kind] <= set(S.values)
        assert not TERMINAL & set(table), kind


@pytest.mark.parametrize("kind", list(HAPPY_PATHS))
def test_valid_path_is_recorded_with_actor(kind, asset):
    path = HAPPY_PATHS[kind]
    with acting_as("sep24"):
        tx = Transaction.objects.create(asset=asset, kind=kind, status=path[0])
    for status in path[1:]:
        change_status(tx, status, actor="process_pending_deposits", reason=f"to {status}")
    tx.refresh_from_db()
    assert tx.status == S.completed
    assert tx.completed_at is not None
    expected = [(None, path[0], "sep24")] + [
        (before, after, "process_pending_deposits") for before, after in zip(path, path[1:])
    ]
    assert history(tx) == expected
    assert tx.status_changes.last().reason == "to completed"


@pytest.mark.parametrize("kind,move", [(kind, move) for kind, moves in INVALID.items() for move in moves])
def test_invalid_transition_raises_and_changes_nothing(kind, move, asset):
    before, after = move
    tx = Transaction.objects.create(asset=asset, kind=kind, status=before)
    with pytest.raises(InvalidTransition) as raised:
        change_status(tx, after, actor="test", amount_out="5")
    assert raised.value.from_status == before and raised.value.to_status == after
    assert tx.status == before and tx.amount_out is None
    tx.refresh_from_db()
    assert tx.status == before and tx.amount_out is None
    assert history(tx) == [(None, before, UNATTRIBUTED)]


def test_creation_rejects_a_status_the_kind_never_uses(asset):
    with pytest.raises(InvalidTransition):
        Transaction.objects.create(asset=asset, kind=K.send, status=S.incomplete)
    with pytest.raises(InvalidTransition):
        Transaction.objects.create(asset=asset, kind=K.deposit, status="not-a-status")
    assert not Transaction.objects.exists()


def test_default_initial_status_depends_on_kind(asset):
    assert Transaction.objects.create(asset=asset, kind=K.deposit).status == S.incomplete
    assert Transaction.objects.create(asset=asset, kind=K.send).status == S.pending_sender


def test_seed_style_status_and_save_is_validated_and_recorded(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.withdrawal, status=S.pending_anchor)
    with acting_as("execute_outgoing_transactions"):
        transaction = Transaction.objects.get(pk=tx.pk)  # as the integration receives it
        transaction.refunded = True
        transaction.status = Transaction.STATUS.error
        transaction.status_message = "the amount received is not valid, refunding."
        transaction.save()
    change = tx.status_changes.get(to_status=S.error)
    assert (change.from_status, change.actor) == (S.pending_anchor, "execute_outgoing_transactions")
    assert change.reason == "the amount received is not valid, refunding."

    transaction.status = Transaction.STATUS.completed  # error -> completed is not allowed
    with pytest.raises(InvalidTransition):
        transaction.save()
    tx.refresh_from_db()
    assert tx.status == S.error and tx.status_changes.count() == 2


def test_save_without_status_change_records_nothing_but_moves_updated_at(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.withdrawal, status=S.pending_anchor)
    first = tx.updated_at
    tx.amount_fee = 1
    tx.save()
    tx.refresh_from_db()
    assert tx.updated_at > first
    assert tx.status_changes.count() == 1


def test_update_fields_save_is_validated_and_recorded(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.withdrawal, status=S.pending_anchor)
    tx.status = S.completed
    tx.save(update_fields=["status"])
    tx.refresh_from_db()
    assert tx.completed_at is not None
    assert history(tx)[-1] == (S.pending_anchor, S.completed, UNATTRIBUTED)


def test_stale_instance_cannot_undo_another_processes_change(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.withdrawal, status=S.pending_anchor)
    stale = Transaction.objects.get(pk=tx.pk)
    change_status(tx, S.completed, actor="poll_outgoing_transactions")
    stale.external_transaction_id = "bank-1"
    with pytest.raises(InvalidTransition):
        stale.save()
    tx.refresh_from_db()
    assert tx.status == S.completed and tx.external_transaction_id is None


def test_failing_save_records_nothing(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.deposit, status=S.pending_anchor)

    def explode(**kwargs):
        raise RuntimeError("outbox is down")

    status_changed.connect(explode, dispatch_uid="explode")
    try:
        with pytest.raises(RuntimeError):
            change_status(tx, S.completed, actor="process_pending_deposits", stellar_transaction_id="ab" * 32)
    finally:
        status_changed.disconnect(dispatch_uid="explode")
    tx.refresh_from_db()
    assert tx.status == S.pending_anchor and tx.stellar_transaction_id is None
    assert tx.status_changes.count() == 1


def test_outer_rollback_takes_the_record_with_it(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.deposit, status=S.pending_anchor)
    with pytest.raises(ZeroDivisionError), db_transaction.atomic():
        change_status(tx, S.completed, actor="process_pending_deposits")
        1 / 0
    assert TransactionStatusChange.objects.filter(transaction=tx).count() == 1
    assert Transaction.objects.get(pk=tx.pk).status == S.pending_anchor


def test_status_changed_signal_fires_inside_the_database_transaction(asset):
    seen = []
    receiver = lambda transaction, change, **kwargs: seen.append(  # noqa: E731
        (change.to_status, db_transaction.get_connection().in_atomic_block)
    )
    status_changed.connect(receiver, dispatch_uid="seen")
    try:
        tx = Transaction.objects.create(asset=asset, kind=K.deposit, status=S.pending_anchor)
        change_status(tx, S.pending_stellar, actor="process_pending_deposits")
    finally:
        status_changed.disconnect(dispatch_uid="seen")
    assert seen == [(S.pending_anchor, True), (S.pending_stellar, True)]


def test_leaving_a_user_status_clears_the_deadline(asset):
    deadline = timezone.now() + timedelta(hours=1)
    tx = Transaction.objects.create(
        asset=asset, kind=K.deposit, status=S.pending_user_transfer_start, user_action_required_by=deadline
    )
    change_status(tx, S.pending_anchor, actor="process_pending_deposits")
    tx.refresh_from_db()
    assert tx.user_action_required_by is None


def test_bulk_status_writes_are_refused(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.deposit, status=S.pending_anchor)
    with pytest.raises(StatusChangeRefused):
        Transaction.objects.filter(pk=tx.pk).update(status=S.completed)
    with pytest.raises(StatusChangeRefused):
        Transaction.objects.bulk_update([tx], ["status"])
    Transaction.objects.filter(pk=tx.pk).update(status_eta=5)


def test_change_status_rejects_unknown_fields(asset):
    tx = Transaction.objects.create(asset=asset, kind=K.deposit, status=S.pending_anchor)
    with pytest.raises(TypeError):
        change_status(tx, S.completed, actor="x", no_such_field=1)
