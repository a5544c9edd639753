"""execute_outgoing_transactions and poll_outgoing_transactions in this process, over the real sandbox bank.

Each payment is made on a real localnet and recorded by the real watcher, so the payouts start exactly as
they do in production.
"""

import socket

import pytest
from django.utils import timezone

from polaris.engine.payouts import WORKER_ID, execute_outgoing_transactions, poll_outgoing_transactions
from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import bank_account, bank_payments, id_memo, wait_for, withdrawal
from polaris.engine.watcher import catch_up, stored_cursor
from polaris.integrations import RailsIntegration, register_integrations, reset_integrations
from polaris.models import Payout, Transaction

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


class RaisingRails(RailsIntegration):
    calls = 0

    def execute_outgoing_transaction(self, transaction, *args, **kwargs):
        RaisingRails.calls += 1
        raise ConnectionError("bank unreachable")


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
