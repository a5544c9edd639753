"""The payout workers as real subprocesses: end to end, SIGKILL after the mark, two executors at once;
the poller killed mid-pass and restarted, two pollers at once.

Every test counts the bank's payments per idempotency key (the transaction id) and the integration's calls
(one marker line per call, written by FaultyAnchorRails): each payout is executed exactly once or parked.
Poller tests count status-history rows and outbox callbacks: each delivered payout completes exactly once.
"""

import json
import signal
from pathlib import Path

import pytest
from django.db import connection

from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import Worker, bank_account, bank_payments, id_memo, wait_for, withdrawal
from polaris.engine.payouts import FAILPOINT_ENV, execute_outgoing_transactions, poll_outgoing_transactions
from polaris.engine.watcher import catch_up, stored_cursor
from polaris.models import Callback, Payout, StreamCursor, Transaction, TransactionStatusChange

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS


def status(t: Transaction) -> str:
    return Transaction.objects.values_list("status", flat=True).get(id=t.id)


def payout_state(t: Transaction) -> str:
    return Payout.objects.values_list("state", flat=True).get(transaction=t)


def calls(marker: Path) -> list[str]:
    return marker.read_text().split() if marker.exists() else []


@pytest.fixture
def paid(usd, horizon, bank):
    """paid(n, **fields) -> n withdrawals paid on localnet and matched (payouts queued)."""
    account = horizon.distribution.public_key
    stored_cursor(account)

    def make(n: int = 1, **fields) -> list[Transaction]:
        ts = [withdrawal(usd, to_address=bank_account(bank), **fields) for _ in range(n)]
        for t in ts:
            horizon.pay("10", id_memo(t))
        catch_up(account)
        assert all(status(t) == S.pending_anchor for t in ts)
        return ts

    return make


def executor(horizon, bank, tmp_path, *args, fault: str = "", marker: Path | None = None) -> Worker:
    env = {"PAYOUT_FAULT": fault, "PAYOUT_FAULT_MARKER": str(marker or "")}
    return Worker("execute_outgoing_transactions", *args, horizon_url=horizon.url, bank_url=bank.url,
                  log_dir=tmp_path, env=env)  # fmt: skip


def test_end_to_end_paid_on_stellar_executed_at_the_bank_then_completed(usd, horizon, bank, tmp_path):
    workers = [
        Worker(name, "--loop", "--interval", "0.3", horizon_url=horizon.url, bank_url=bank.url, log_dir=tmp_path)
        for name in ("watch_transactions", "execute_outgoing_transactions", "poll_outgoing_transactions")
    ]
    try:
        account = horizon.distribution.public_key
        wait_for(lambda: StreamCursor.objects.filter(account=account).exists())
        t = withdrawal(usd, to_address=bank_account(bank))
        horizon.pay("10", id_memo(t))
        wait_for(lambda: status(t) in (S.pending_external, S.completed))
        wait_for(lambda: status(t) == S.completed)
    finally:
        for worker in workers:
            assert worker.stop() == 0, worker.log()
    assert [p["status"] for p in bank_payments(bank, t)] == ["delivered"]
    assert payout_state(t) == Payout.STATE.done


@pytest.mark.parametrize("fault", ["hang_before_bank", "hang_after_bank"])
def test_executor_killed_after_the_mark_parks_the_payout_and_never_executes_it_again(
    paid, horizon, bank, tmp_path, fault
):
    [t] = paid(1)
    marker = tmp_path / "calls"
    worker = executor(horizon, bank, tmp_path, "--loop", "--interval", "0.3", fault=fault, marker=marker)
    try:
        wait_for(lambda: calls(marker))
        assert payout_state(t) == Payout.STATE.started  # the mark was committed before the call
    finally:
        worker.kill()

    # A fresh worker, with the integration working again, recovers on its next pass.
    again = executor(horizon, bank, tmp_path, fault="record", marker=marker)
    assert again.process.wait(30) == 0, again.log()
    assert payout_state(t) == Payout.STATE.parked
    assert calls(marker) == [str(t.id)]  # called once, by the killed worker only
    payments = bank_payments(bank, t)
    if fault == "hang_before_bank":
        assert payments == []
        assert status(t) == S.error  # visible for review
    else:
        assert len(payments) == 1
        assert status(t) == S.pending_external  # the integration's own move stands; poll follows it


def test_integration_raising_in_a_worker_parks_the_payout(paid, horizon, bank, tmp_path):
    [t] = paid(1)
    marker = tmp_path / "calls"
    for _ in range(2):
        worker = executor(horizon, bank, tmp_path, fault="raise", marker=marker)
        assert worker.process.wait(30) == 0, worker.log()
    assert calls(marker) == [str(t.id)]
    assert payout_state(t) == Payout.STATE.parked
    assert status(t) == S.error
    assert bank_payments(bank, t) == []


@pytest.mark.postgres_only
def test_two_executors_at_once_execute_each_payout_exactly_once(paid, horizon, bank, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs two executors against one database: the PostgreSQL run covers it")
    ts = paid(12)
    marker = tmp_path / "calls"
    workers = [
        executor(horizon, bank, tmp_path, "--loop", "--interval", "0.3", fault="record", marker=marker)
        for _ in range(2)
    ]
    try:
        wait_for(lambda: not Payout.objects.exclude(state=Payout.STATE.done).exists(), timeout=60)
    finally:
        for worker in workers:
            worker.stop()
    made = calls(marker)
    assert sorted(made) == sorted(str(t.id) for t in ts)  # each exactly once
    for t in ts:
        assert len(bank_payments(bank, t)) == 1
        assert status(t) == S.pending_external


# ---- poll_outgoing_transactions -----------------------------------------------------------------------------

# Callbacks are only written to the outbox here (no sender runs): one row per status change.
UNSENT_CALLBACK = "http://127.0.0.1:9/callback"


@pytest.fixture
def at_the_bank(paid, anchor_rails):
    """at_the_bank(n) -> n withdrawals executed at the bank (in this process): ``pending_external``."""

    def make(n: int, *, pollers_running: bool = False) -> list[Transaction]:
        ts = paid(n, on_change_callback=UNSENT_CALLBACK)
        assert execute_outgoing_transactions() == n
        # The bank settles 0.5 s after each payment: on a slow machine a poller already running may have
        # completed the first ones by now.
        reached = (S.pending_external, S.completed) if pollers_running else (S.pending_external,)
        assert all(status(t) in reached for t in ts)
        return ts

    return make


def poller(horizon, bank, tmp_path, *args, env: dict | None = None) -> Worker:
    return Worker("poll_outgoing_transactions", *args, horizon_url=horizon.url, bank_url=bank.url,
                  log_dir=tmp_path, env=env)  # fmt: skip


def settled(bank, ts: list[Transaction]) -> bool:
    return all(payment["status"] == "delivered" for t in ts for payment in bank_payments(bank, t))


def assert_completed_exactly_once(ts: list[Transaction]) -> None:
    """Completed, one history row into ``completed``, and one outbox callback per recorded change."""
    for t in ts:
        assert status(t) == S.completed
        history = list(TransactionStatusChange.objects.filter(transaction=t).order_by("id").values_list(
            "to_status", flat=True))  # fmt: skip
        assert history.count(S.completed) == 1, history
        bodies = Callback.objects.filter(transaction=t).order_by("id").values_list("body", flat=True)
        assert [json.loads(body)["transaction"]["status"] for body in bodies] == history


@pytest.mark.parametrize("failpoint", ["after_poll", "after_complete"])
def test_poller_killed_mid_pass_then_restarted_completes_each_payout_exactly_once(
    at_the_bank, horizon, bank, tmp_path, failpoint
):
    ts = at_the_bank(3)
    wait_for(lambda: settled(bank, ts))
    killed = poller(horizon, bank, tmp_path, env={FAILPOINT_ENV: failpoint})
    assert killed.process.wait(30) == -signal.SIGKILL, killed.log()
    # after_poll: nothing written yet. after_complete: one completion, committed on its own on SQLite,
    # rolled back with the whole locked pass on PostgreSQL.
    completed_by_killed = sum(status(t) == S.completed for t in ts)
    assert completed_by_killed == (1 if failpoint == "after_complete" and connection.vendor == "sqlite" else 0)

    again = poller(horizon, bank, tmp_path)
    assert again.process.wait(30) == 0, again.log()
    assert again.errors() == []
    assert poll_outgoing_transactions() == 0  # completing is idempotent: nothing left, nothing redone
    assert_completed_exactly_once(ts)
    assert not Transaction.objects.filter(status=S.pending_external).exists()
    assert all(len(bank_payments(bank, t)) == 1 for t in ts)


@pytest.mark.postgres_only
def test_two_pollers_at_once_complete_each_payout_exactly_once(at_the_bank, horizon, bank, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("two pollers share work through SKIP LOCKED row locks: the PostgreSQL run covers it")
    workers = [poller(horizon, bank, tmp_path, "--loop", "--interval", "0.3") for _ in range(2)]
    try:
        # Both run before the payouts reach pending_external, so both poll the same batch over several
        # passes until the bank settles (and a SIGTERM never lands before the handler is installed).
        wait_for(lambda: all("started (loop=True" in worker.log() for worker in workers))
        ts = at_the_bank(10, pollers_running=True)
        wait_for(lambda: all(status(t) == S.completed for t in ts), timeout=30)
    finally:
        for worker in workers:
            assert worker.stop() == 0, worker.log()
    for worker in workers:
        assert worker.errors() == [], worker.log()
    assert_completed_exactly_once(ts)
