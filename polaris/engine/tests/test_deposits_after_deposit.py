"""after_deposit: called once per completed deposit, after its completion is committed, from rows that
outlive a crash; what it raises is logged and swallowed. In-process, with a real localnet, as test_deposits.
"""

import logging
import time
from collections import Counter

import pytest
from stellar_sdk import Keypair

from polaris.engine.deposits import call_after_deposit, prepare, process_pending_deposits
from polaris.engine.tests.recording_deposit import Call, RecordingDeposit, recorded_calls
from polaris.engine.tests.test_deposits import FAST, run_passes
from polaris.engine.tests.test_deposits_support import anchor, ledger, new_deposit, ready_deposits  # noqa: F401
from polaris.integrations import register_integrations
from polaris.models import PendingAfterDeposit, Transaction

S = Transaction.STATUS


@pytest.fixture
def log(tmp_path):
    return tmp_path / "after_deposit.log"


@pytest.fixture
def recorder(anchor, log):
    """RecordingDeposit registered (the anchor fixture resets the integrations afterwards)."""
    register_integrations(deposit=RecordingDeposit(log))


def completed_calls(*deposits) -> list[Call]:
    """The calls expected: one per deposit, completed on the instance and in the database, outside any
    database transaction."""
    return sorted(Call(str(deposit.pk), S.completed, S.completed, False) for deposit in deposits)


def test_called_once_per_deposit_of_a_batch_and_for_a_claimable_balance(anchor, ledger, recorder, log):
    asset, rails = anchor
    users = ledger.new_accounts(3)
    batch = [new_deposit(asset, user.public_key, "2", funded_rails=rails) for user in users]
    claimable = new_deposit(asset, Keypair.random().public_key, "3", funded_rails=rails,
                            claimable_balance_supported=True)
    run_passes()
    for deposit in (*batch, claimable):
        deposit.refresh_from_db()
    assert len({deposit.stellar_transaction_id for deposit in (*batch, claimable)}) == 1  # one envelope
    assert claimable.claimable_balance_id
    assert sorted(recorded_calls(log)) == completed_calls(*batch, claimable)
    assert not PendingAfterDeposit.objects.exists()


def test_not_called_for_a_failed_or_pending_trust_deposit_until_it_completes(anchor, ledger, recorder, log):
    asset, rails = anchor
    good, full = ledger.new_accounts(2)
    # A trustline with room for 1 unit: the ledger refuses 2 units (op_line_full) and the deposit goes to error.
    ledger.submit(full, lambda b: b.append_change_trust_op(ledger.asset, limit="1"))
    (untrusting,) = ledger.new_accounts(1, trust=False)
    paid = new_deposit(asset, good.public_key, "2", funded_rails=rails)
    failed = new_deposit(asset, full.public_key, "2", funded_rails=rails)
    waiting = new_deposit(asset, untrusting.public_key, "2", funded_rails=rails)
    run_passes()
    for deposit, status in ((paid, S.completed), (failed, S.error), (waiting, S.pending_trust)):
        deposit.refresh_from_db()
        assert deposit.status == status
    assert recorded_calls(log) == completed_calls(paid)

    ledger.add_trustlines([untrusting])
    run_passes()
    assert sorted(recorded_calls(log)) == completed_calls(paid, waiting)
    assert not PendingAfterDeposit.objects.exists()


def test_a_raising_after_deposit_is_logged_and_the_deposit_stays_completed(anchor, ledger, log, caplog):
    asset, rails = anchor
    register_integrations(deposit=RecordingDeposit(log, raises=True))
    first, second = ledger.new_accounts(2)
    failing = new_deposit(asset, first.public_key, "2", funded_rails=rails)
    with caplog.at_level(logging.ERROR, logger="polaris.engine.deposits"):
        run_passes()
    failing.refresh_from_db()
    assert failing.status == S.completed
    assert recorded_calls(log) == completed_calls(failing)  # called once: no retry
    assert not PendingAfterDeposit.objects.exists()
    (error,) = [record for record in caplog.records if "after_deposit raised" in record.getMessage()]
    assert error.exc_info and "the anchor's after_deposit failed" in caplog.text

    later = new_deposit(asset, second.public_key, "2", funded_rails=rails)  # the worker goes on
    run_passes()
    later.refresh_from_db()
    assert later.status == S.completed
    assert sorted(recorded_calls(log)) == completed_calls(failing, later)


@pytest.mark.parametrize("next_run", [prepare, lambda: process_pending_deposits(FAST)], ids=["start-up", "pass"])
def test_a_call_a_crash_left_owed_is_made_by_the_next_start_up_or_pass(anchor, ledger, log, next_run):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1)
    deposit = new_deposit(asset, user.public_key, "2", funded_rails=rails)
    run_passes()  # completed with the default (no-op) after_deposit
    deposit.refresh_from_db()
    assert deposit.status == S.completed
    assert not PendingAfterDeposit.objects.exists()  # no call owed to the default
    # What a worker killed right after the completion commit leaves: the row, and no call.
    PendingAfterDeposit.objects.create(transaction=deposit)
    register_integrations(deposit=RecordingDeposit(log))

    next_run()
    assert recorded_calls(log) == completed_calls(deposit)
    assert not PendingAfterDeposit.objects.exists()
    run_passes(1)
    assert recorded_calls(log) == completed_calls(deposit)


class WorkerDied(BaseException):
    """Stands for the worker process dying during a call: nothing after it runs."""


class DiesOnThirdCall(RecordingDeposit):
    def __init__(self, log, seconds_per_call: float):
        super().__init__(log)
        self.seconds_per_call = seconds_per_call

    def after_deposit(self, transaction, *args, **kwargs):
        if len(recorded_calls(self.log)) == 2:
            raise WorkerDied
        time.sleep(self.seconds_per_call)
        super().after_deposit(transaction)


@pytest.mark.parametrize("delete_every, seconds_per_call, repeated", [(60, 0, 2), (0.05, 0.05, 0)],
                         ids=["calls-faster-than-deletes", "calls-slower-than-deletes"])
def test_a_crash_during_the_calls_repeats_at_most_those_since_the_last_delete(anchor, ledger, log, monkeypatch,
                                                                              delete_every, seconds_per_call, repeated):
    monkeypatch.setattr("polaris.engine.deposits.DELETE_CALLED_EVERY", delete_every)
    asset, rails = anchor
    users = ledger.new_accounts(4)
    deposits = [new_deposit(asset, user.public_key, "2", funded_rails=rails) for user in users]
    run_passes()  # completed with the default (no-op) after_deposit
    PendingAfterDeposit.objects.bulk_create([PendingAfterDeposit(transaction=deposit) for deposit in deposits])
    register_integrations(deposit=DiesOnThirdCall(log, seconds_per_call))
    with pytest.raises(WorkerDied):
        call_after_deposit()
    register_integrations(deposit=RecordingDeposit(log))  # the restarted worker

    assert call_after_deposit() == 4 - (2 - repeated)
    calls = Counter(call.deposit_id for call in recorded_calls(log))
    assert set(calls) == {str(deposit.pk) for deposit in deposits}
    assert sum(calls.values()) - len(deposits) == repeated
    assert not PendingAfterDeposit.objects.exists()


def test_a_row_for_a_deposit_that_is_not_completed_is_dropped_without_a_call(anchor, recorder, log):
    asset, _ = anchor
    (deposit,) = ready_deposits(asset, [Keypair.random().public_key])
    PendingAfterDeposit.objects.create(transaction=deposit)
    assert call_after_deposit() == 1
    assert recorded_calls(log) == []
    assert not PendingAfterDeposit.objects.exists()
