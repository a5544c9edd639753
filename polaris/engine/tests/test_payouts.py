"""execute_outgoing_transactions, poll_outgoing_transactions and release_parked_payout in this process, over
the real sandbox bank.

Each payment is made on a real localnet and recorded by the real watcher, so the payouts start exactly as
they do in production. The release refusals need no network: their withdrawals start at ``pending_anchor``.
"""

import socket

import pytest
from django.db import connection
from django.utils import timezone

from examples.anchor.integrations import AnchorRails
from examples.anchor.rails import submit_payment
from polaris.engine.payouts import (
    WORKER_ID,
    PayoutReleaseRefused,
    execute_outgoing_transactions,
    poll_outgoing_transactions,
    release_parked_payout,
)
from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import (
    RaisingRails,
    bank_account,
    bank_payments,
    id_memo,
    park_queued_payouts,
    received_withdrawal,
    wait_for,
    withdrawal,
)
from polaris.engine.transitions import change_status
from polaris.engine.watcher import catch_up, stored_cursor
from polaris.integrations import RailsIntegration, register_integrations, reset_integrations
from polaris.models import Payout, PayoutRelease, Transaction
from polaris.tests.concurrency import contend_with_a_lock_holder

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS


@pytest.fixture
def paid(usd, horizon, bank):
    """paid(**withdrawal_fields) -> a withdrawal paid on localnet and matched by the watcher."""
    account = horizon.distribution.public_key
    stored_cursor(account)

    def make(**fields):
        t = withdrawal(usd, to_address=bank_account(bank), **fields)
        horizon.pay(str(t.amount_expected), id_memo(t))
        catch_up(account)
        t.refresh_from_db()
        assert t.status == S.pending_anchor
        return t

    return make


def test_withdrawal_is_executed_at_the_bank_once_then_completed_when_delivered(paid, anchor_rails, bank):
    t = paid()
    assert execute_outgoing_transactions() == 1
    t.refresh_from_db()
    assert t.status == S.pending_external
    [payment] = bank_payments(bank, t)
    assert payment["status"] == "initiated" and payment["amount"] == "9.50"
    assert t.external_transaction_id == payment["id"]
    assert Payout.objects.get(transaction=t).state == Payout.STATE.done
    assert execute_outgoing_transactions() == 0  # nothing left to execute: never a second call

    # The bank settles 0.5 s after the payment; until then polling completes nothing.
    wait_for(lambda: poll_outgoing_transactions() or Transaction.objects.get(id=t.id).status == S.completed)
    t.refresh_from_db()
    assert t.status == S.completed and t.completed_at is not None
    assert poll_outgoing_transactions() == 0  # completed stays completed
    assert [p["status"] for p in bank_payments(bank, t)] == ["delivered"]
    actors = list(t.status_changes.order_by("at", "id").values_list("to_status", "actor"))
    assert actors[-3:] == [
        (S.pending_anchor, "watch_transactions"),
        (S.pending_external, "execute_outgoing_transactions"),
        (S.completed, "poll_outgoing_transactions"),
    ]


class SilentRails(RailsIntegration):
    calls = 0

    def execute_outgoing_transaction(self, transaction, *args, **kwargs):
        SilentRails.calls += 1  # returns without moving the transaction on


@pytest.mark.parametrize("rails, error", [(RaisingRails, "raised ConnectionError"), (SilentRails, "without changing")])
def test_a_payout_that_raises_or_changes_nothing_is_parked_and_never_called_again(paid, rails, error):
    t = paid()
    rails.calls = 0
    register_integrations(rails=rails())
    try:
        execute_outgoing_transactions()
        execute_outgoing_transactions()
    finally:
        reset_integrations()
    assert rails.calls == 1
    payout = Payout.objects.get(transaction=t)
    assert payout.state == Payout.STATE.parked and error in payout.error
    t.refresh_from_db()
    assert t.status == S.error and "review" in t.status_message


def test_a_payout_this_worker_left_started_in_a_failed_pass_is_parked_and_never_called(paid):
    """A looping worker whose pass raised after the mark (say, the database locked while recording the
    outcome) keeps running: its next pass parks the payout, since the call may have happened."""
    t = paid()
    RaisingRails.calls = 0
    Payout.objects.filter(transaction=t).update(
        state=Payout.STATE.started, claimed_by=WORKER_ID, claimed_at=timezone.now(), started_at=timezone.now()
    )
    register_integrations(rails=RaisingRails())
    try:
        execute_outgoing_transactions()
    finally:
        reset_integrations()
    assert RaisingRails.calls == 0
    payout = Payout.objects.get(transaction=t)
    assert payout.state == Payout.STATE.parked and "stopped or failed" in payout.error
    t.refresh_from_db()
    assert t.status == S.error and "review" in t.status_message


def test_without_a_registered_rails_integration_nothing_is_claimed(paid):
    t = paid()
    assert execute_outgoing_transactions() == 0
    assert Payout.objects.get(transaction=t).state == Payout.STATE.queued


def test_a_claim_whose_worker_died_before_the_mark_is_queued_again_and_executed_once(paid, anchor_rails, bank):
    t = paid()
    # A worker on this host (pid 2**22 + 1 never exists) claimed it and died before the started mark.
    dead_worker = f"{socket.gethostname()}:4194305:dead"
    Payout.objects.filter(transaction=t).update(
        state=Payout.STATE.claimed, claimed_by=dead_worker, claimed_at=timezone.now()
    )
    assert execute_outgoing_transactions() == 1
    assert len(bank_payments(bank, t)) == 1
    assert Payout.objects.get(transaction=t).state == Payout.STATE.done


# ---- release_parked_payout ----------------------------------------------------------------------------------


def parked(asset, **fields) -> Transaction:
    t = received_withdrawal(asset, **fields)
    park_queued_payouts()
    t.refresh_from_db()
    assert t.status == S.error and t.payout.state == Payout.STATE.parked
    return t


def assert_still_parked(t: Transaction) -> None:
    t.refresh_from_db()
    assert t.payout.state == Payout.STATE.parked and "bank unreachable" in t.payout.error
    assert not PayoutRelease.objects.exists()


@pytest.mark.parametrize("kind, awaiting", [("withdrawal", S.pending_anchor), ("send", S.pending_receiver)])
def test_a_release_queues_the_payout_and_returns_the_transaction_to_the_status_awaiting_payout(
    offline_usd, kind, awaiting
):
    t = parked(offline_usd, kind=kind)
    parked_payout = t.payout

    released = release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=True)

    assert released.status == awaiting and released.status_message == ""
    payout = Payout.objects.get(transaction=t)
    assert payout.state == Payout.STATE.queued
    assert (payout.claimed_by, payout.claimed_at, payout.started_at, payout.finished_at, payout.error) == (
        "", None, None, None, ""
    )  # fmt: skip
    [release] = payout.releases.all()
    assert release.released_by == "admin:alice" and "bank unreachable" in release.parked_error
    assert (release.parked_worker, release.parked_started_at, release.parked_at) == (
        parked_payout.claimed_by, parked_payout.started_at, parked_payout.finished_at
    )  # fmt: skip
    last = t.status_changes.order_by("at", "id").last()
    assert (last.from_status, last.to_status, last.actor) == (S.error, awaiting, "admin:alice")
    assert "the bank has no payment" in last.reason


def test_a_release_without_the_bank_confirmation_or_an_operator_is_refused_and_writes_nothing(offline_usd):
    t = parked(offline_usd)
    with pytest.raises(PayoutReleaseRefused, match="confirm that the bank has no payment"):
        release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=False)
    with pytest.raises(PayoutReleaseRefused, match="say who releases"):
        release_parked_payout(t.id, operator="", bank_did_not_pay=True)
    assert_still_parked(t)


def test_only_a_parked_payout_is_released_and_only_once(offline_usd):
    queued = received_withdrawal(offline_usd)
    with pytest.raises(PayoutReleaseRefused, match="is queued, not parked"):
        release_parked_payout(queued.id, operator="admin:alice", bank_did_not_pay=True)
    without_payout = withdrawal(offline_usd)
    with pytest.raises(PayoutReleaseRefused, match="has no payout"):
        release_parked_payout(without_payout.id, operator="admin:alice", bank_did_not_pay=True)

    t = parked(offline_usd)
    release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=True)
    with pytest.raises(PayoutReleaseRefused, match="is queued, not parked"):
        release_parked_payout(t.id, operator="admin:bob", bank_did_not_pay=True)
    assert PayoutRelease.objects.count() == 1


def test_a_parked_payout_whose_transaction_was_handled_since_is_not_released(offline_usd):
    t = parked(offline_usd)
    change_status(t, S.refunded, actor="admin:alice", reason="refunded on Stellar")
    with pytest.raises(PayoutReleaseRefused, match="is refunded, not error: it was handled"):
        release_parked_payout(t.id, operator="admin:bob", bank_did_not_pay=True)
    assert_still_parked(t)
    assert Transaction.objects.get(id=t.id).status == S.refunded


def test_a_released_payout_is_executed_once_more_at_the_bank_and_then_never_again(paid, anchor_rails, bank):
    t = paid()
    RaisingRails.calls = 0
    park_queued_payouts()
    assert RaisingRails.calls == 1 and bank_payments(bank, t) == []

    release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=True)
    assert execute_outgoing_transactions() == 1
    assert execute_outgoing_transactions() == 0  # executed once more, not once per pass

    [payment] = bank_payments(bank, t)
    t.refresh_from_db()
    assert t.status == S.pending_external and t.external_transaction_id == payment["id"]
    assert Payout.objects.get(transaction=t).state == Payout.STATE.done
    transitions = list(t.status_changes.order_by("at", "id").values_list("to_status", "actor"))
    assert transitions[-4:] == [
        (S.pending_anchor, "watch_transactions"),
        (S.error, "execute_outgoing_transactions"),
        (S.pending_anchor, "admin:alice"),
        (S.pending_external, "execute_outgoing_transactions"),
    ]


class PaysThenLosesTheAnswerRails(AnchorRails):
    """The bank paid, then the integration failed before it could record the payment."""

    def execute_outgoing_transaction(self, transaction, *args, **kwargs):
        submit_payment(transaction)
        raise ConnectionError("the bank's answer was lost")


def test_a_wrong_release_cannot_pay_twice_the_transaction_id_is_the_banks_idempotency_key(paid, anchor_rails, bank):
    t = paid()
    park_queued_payouts(PaysThenLosesTheAnswerRails())
    [paid_before_the_release] = bank_payments(bank, t)

    # The operator did not check the bank, and releases it anyway.
    release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=True)
    assert execute_outgoing_transactions() == 1

    assert [p["id"] for p in bank_payments(bank, t)] == [paid_before_the_release["id"]]
    t.refresh_from_db()
    assert t.status == S.pending_external and t.external_transaction_id == paid_before_the_release["id"]


@pytest.mark.postgres_only
def test_two_operators_releasing_at_once_release_it_once(offline_usd):
    """PostgreSQL: the first release holds the payout and transaction row locks until it commits; the second,
    blocked meanwhile, then sees the payout queued and is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: the PostgreSQL run covers it")
    t = parked(offline_usd)
    refusal = contend_with_a_lock_holder(
        lambda: release_parked_payout(t.id, operator="admin:alice", bank_did_not_pay=True),
        lambda: release_parked_payout(t.id, operator="admin:bob", bank_did_not_pay=True),
    )
    assert isinstance(refusal, PayoutReleaseRefused) and "is queued, not parked" in str(refusal)
    assert list(PayoutRelease.objects.values_list("released_by", flat=True)) == ["admin:alice"]
    assert t.status_changes.filter(from_status=S.error, to_status=S.pending_anchor).count() == 1
