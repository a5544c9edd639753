"""Exactly once under faults: Horizon 504-after-apply and 503, SIGKILL of a real worker process at each
step, an envelope that expires unsent, and two workers at once (PostgreSQL).

Every test counts, on localnet's ledger, the deliveries to each destination: exactly one per deposit. The
worker processes that register RecordingDeposit also count the after_deposit calls: one per deposit.
"""

import signal
import time

import pytest
from django.db import connection

from polaris.engine.deposits import FAILPOINT_ENV, Options, process_pending_deposits
from polaris.engine.tests.test_deposits_support import (  # noqa: F401
    anchor,
    ledger,
    ready_deposits,
    run_worker,
    start_worker,
    wait_for,
)
from polaris.engine.tests.recording_deposit import LOG_ENV, recorded_calls
from polaris.models import PendingAfterDeposit, StellarSubmission, Transaction

S = Transaction.STATUS
FAST = Options(resolve_after=0)


def assert_paid_exactly_once(ledger, deposits) -> None:
    counts = ledger.deliveries()
    for deposit in deposits:
        deposit.refresh_from_db()
        assert deposit.status == S.completed, (deposit.pk, deposit.status)
    for destination in {deposit.to_address for deposit in deposits}:
        expected = sum(1 for deposit in deposits if deposit.to_address == destination)
        assert counts[destination] == expected, (destination, counts[destination], expected)


def recording_after_deposit(log) -> dict:
    """Environment for worker processes that register RecordingDeposit, logging to ``log``."""
    return {"DJANGO_SETTINGS_MODULE": "polaris.engine.tests.anchor_settings", LOG_ENV: str(log)}


def assert_after_deposit_called_once_each(log, deposits) -> None:
    assert sorted(call.deposit_id for call in recorded_calls(log)) == sorted(str(deposit.pk) for deposit in deposits)
    assert {call.status_in_db for call in recorded_calls(log)} == {S.completed}
    assert not PendingAfterDeposit.objects.exists()


def warm_up_channels(anchor, ledger) -> None:
    """One paid deposit, so channel accounts exist and the fault hits a deposit envelope."""
    asset, _ = anchor
    (user,) = ledger.new_accounts(1)
    ready_deposits(asset, [user.public_key])
    process_pending_deposits(FAST)


@pytest.mark.parametrize("fault", ["apply_then_504", "reject_503"])
def test_horizon_fault_on_submission_is_resolved_and_paid_exactly_once(anchor, ledger, fault):
    asset, _ = anchor
    warm_up_channels(anchor, ledger)
    users = ledger.new_accounts(3)
    deposits = ready_deposits(asset, [user.public_key for user in users] * 2, memo_every=3)
    ledger.fault(fault, count=1)
    process_pending_deposits(FAST)
    unknown = StellarSubmission.objects.filter(state="pending")
    assert unknown.count() == 1, "the faulted envelope must stay pending (unknown), never failed"
    assert not Transaction.objects.filter(status=S.error).exists()
    for _ in range(3):
        process_pending_deposits(FAST)
    assert_paid_exactly_once(ledger, deposits)
    assert not StellarSubmission.objects.filter(state__in=["pending", "rejected", "expired"]).exists()


@pytest.mark.parametrize("failpoint", ["after_commit", "after_submit"])
def test_sigkill_at_each_step_then_restart_pays_each_deposit_exactly_once(anchor, ledger, failpoint):
    asset, _ = anchor
    users = ledger.new_accounts(4)
    deposits = ready_deposits(asset, [user.public_key for user in users] * 3, memo_every=4)

    code, output = run_worker(ledger, **{FAILPOINT_ENV: failpoint})
    assert code == -signal.SIGKILL, output
    pending = StellarSubmission.objects.filter(state="pending", purpose="deposits")
    assert pending.exists()
    assert set(Transaction.objects.filter(pk__in=[d.pk for d in deposits]).values_list("status", flat=True)) <= {
        S.pending_stellar, S.completed, S.pending_anchor}

    code, output = run_worker(ledger)  # start-up resolves the envelopes by hash before building anything
    assert code == 0, output
    code, output = run_worker(ledger)
    assert code == 0, output
    assert_paid_exactly_once(ledger, deposits)


def test_sigkill_after_the_completion_commit_then_restart_calls_after_deposit_once_each(anchor, ledger, tmp_path):
    asset, _ = anchor
    users = ledger.new_accounts(3)
    deposits = ready_deposits(asset, [user.public_key for user in users] * 2, memo_every=3)
    log = tmp_path / "after_deposit.log"
    env = recording_after_deposit(log)

    code, output = run_worker(ledger, **env, **{FAILPOINT_ENV: "after_complete"})
    assert code == -signal.SIGKILL, output
    assert PendingAfterDeposit.objects.exists() and recorded_calls(log) == []  # completed, not yet called

    code, output = run_worker(ledger, **env)  # start-up makes the calls the killed worker owed
    assert code == 0, output
    code, output = run_worker(ledger, **env)
    assert code == 0, output
    assert_paid_exactly_once(ledger, deposits)
    assert_after_deposit_called_once_each(log, deposits)


def test_an_envelope_that_never_reached_the_network_expires_and_is_rebuilt_once(anchor, ledger):
    asset, _ = anchor
    users = ledger.new_accounts(2)
    deposits = ready_deposits(asset, [user.public_key for user in users])
    code, output = run_worker(ledger, "--envelope-timeout", "2", **{FAILPOINT_ENV: "after_commit"})
    assert code == -signal.SIGKILL, output
    lost = StellarSubmission.objects.get(state="pending", purpose="deposits")
    assert wait_for(lambda: ledger.latest_close_time() > lost.max_time, timeout=20)

    code, output = run_worker(ledger)
    assert code == 0, output
    code, output = run_worker(ledger)
    assert code == 0, output
    lost.refresh_from_db()
    assert lost.state == "expired"
    assert_paid_exactly_once(ledger, deposits)


def test_two_workers_at_once_pay_each_deposit_and_call_after_deposit_exactly_once(anchor, ledger, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several instances need PostgreSQL's row and advisory locks; SQLite runs one worker")
    asset, _ = anchor
    users = ledger.new_accounts(10)
    deposits = ready_deposits(asset, [user.public_key for user in users] * 20, memo_every=5)
    log = tmp_path / "after_deposit.log"
    workers = [start_worker(ledger, "--loop", "--interval", "0.5", "--max-channels", "8",
                            **recording_after_deposit(log)) for _ in range(2)]
    try:
        ids = [deposit.pk for deposit in deposits]
        assert wait_for(lambda: Transaction.objects.filter(pk__in=ids, status=S.completed).count() == len(ids),
                        timeout=90, interval=0.5)
        time.sleep(1)  # let both run a few more passes: nothing may be paid again
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    assert_paid_exactly_once(ledger, deposits)
    assert_after_deposit_called_once_each(log, deposits)
