"""watch_transactions as a real streaming subprocess: restart without a gap, dropped streams, SIGTERM."""

import pytest
import requests

from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import Worker, id_memo, wait_for, withdrawal
from polaris.models import ReceivedPayment, StreamCursor, Transaction

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS


def start_watcher(horizon, tmp_path) -> Worker:
    watcher = Worker("watch_transactions", "--loop", "--interval", "0.5", horizon_url=horizon.url, log_dir=tmp_path)
    account = horizon.distribution.public_key
    wait_for(lambda: StreamCursor.objects.filter(account=account).exists() or watcher.process.poll() is not None)
    assert watcher.process.poll() is None, watcher.log()
    return watcher


def status(t: Transaction) -> str:
    return Transaction.objects.values_list("status", flat=True).get(id=t.id)


def test_streamed_payment_is_matched_and_sigterm_stops_the_watcher_cleanly(usd, horizon, tmp_path):
    watcher = start_watcher(horizon, tmp_path)
    try:
        t = withdrawal(usd)
        horizon.pay("10", id_memo(t))
        wait_for(lambda: status(t) == S.pending_anchor)
    finally:
        assert watcher.stop() == 0, watcher.log()


def test_payment_made_while_the_watcher_was_stopped_is_matched_after_restart(usd, horizon, tmp_path):
    watcher = start_watcher(horizon, tmp_path)
    first = withdrawal(usd)
    horizon.pay("10", id_memo(first))
    wait_for(lambda: status(first) == S.pending_anchor)
    watcher.kill()  # SIGKILL: no chance to tidy up

    missed = withdrawal(usd)
    horizon.pay("10", id_memo(missed))  # nobody is watching
    assert status(missed) == S.pending_user_transfer_start

    watcher = start_watcher(horizon, tmp_path)
    try:
        wait_for(lambda: status(missed) == S.pending_anchor)
    finally:
        watcher.stop()
    assert ReceivedPayment.objects.filter(transaction__in=[first, missed]).count() == 2


def test_dropped_streams_miss_nothing(usd, horizon, tmp_path):
    watcher = start_watcher(horizon, tmp_path)
    try:
        withdrawals = []
        for _ in range(6):
            t = withdrawal(usd)
            withdrawals.append(t)
            horizon.pay("10", id_memo(t))
            requests.post(f"{horizon.url}/_localnet/faults", json={"mode": "drop_streams"}, timeout=5)
        wait_for(lambda: all(status(t) == S.pending_anchor for t in withdrawals), timeout=30)
    finally:
        watcher.stop()
    assert ReceivedPayment.objects.filter(transaction__in=withdrawals).count() == 6
    assert not ReceivedPayment.objects.filter(status="unmatched").exists()


@pytest.mark.postgres_only
def test_two_watchers_one_leader_each_payment_recorded_once(usd, horizon, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("leader election uses PostgreSQL advisory locks; SQLite runs one watcher")
    watchers = [start_watcher(horizon, tmp_path), start_watcher(horizon, tmp_path)]
    try:
        ts = [withdrawal(usd) for _ in range(4)]
        for t in ts:
            horizon.pay("10", id_memo(t))
        wait_for(lambda: all(status(t) == S.pending_anchor for t in ts))
        watchers[0].kill()  # the leader (or the stand-by): either way the other carries on
        late = withdrawal(usd)
        horizon.pay("10", id_memo(late))
        wait_for(lambda: status(late) == S.pending_anchor, timeout=30)
    finally:
        for w in watchers:
            if w.process.poll() is None:
                w.stop()
    assert ReceivedPayment.objects.filter(transaction__in=[*ts, late]).count() == 5
