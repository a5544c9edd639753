import threading
import time

import pytest
from django.db import connection, transaction

from polaris.workers.loop import run_worker
from polaris.workers.wakeup import notify


def test_without_loop_runs_exactly_one_pass():
    calls = []
    run_worker("one", lambda: calls.append(1) or 5, loop=False, interval=10)
    assert calls == [1]


def test_a_pass_that_found_work_is_followed_at_once_and_stop_ends_the_loop():
    stop = threading.Event()
    backlog = [3, 2, 1, 0]
    passes = []

    def one_pass():
        passes.append(time.monotonic())
        handled = backlog.pop(0) if backlog else 0
        if not backlog:
            stop.set()
        return handled

    started = time.monotonic()
    run_worker("drain", one_pass, loop=True, interval=30, stop=stop)
    # Four passes back to back: the 30 s interval was never waited for.
    assert len(passes) == 4
    assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
def test_notify_wakes_a_waiting_worker_long_before_its_interval():
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll every 0.2 s instead")
    stop = threading.Event()
    passes = []

    def one_pass():
        passes.append(time.monotonic())
        if len(passes) == 2:
            stop.set()
        return 0

    thread = threading.Thread(
        target=run_worker,
        args=("listener", one_pass),
        kwargs=dict(loop=True, interval=30, channels=["polaris_test_wakeup"], stop=stop),
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not passes and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # let the worker reach LISTEN
        sent = time.monotonic()
        with transaction.atomic():
            notify("polaris_test_wakeup")
        thread.join(timeout=5)
        assert not thread.is_alive(), "the notification did not wake the worker"
        assert len(passes) == 2
        assert passes[1] - sent < 1.0
    finally:
        stop.set()
        thread.join(timeout=5)


def test_a_looping_worker_survives_a_failing_pass_recovers_and_backs_off():
    stop = threading.Event()
    events = []

    def one_pass():
        events.append(("pass", time.monotonic()))
        if len(events) < 5:  # two failing passes, each followed by recover
            raise RuntimeError("database is locked")
        stop.set()
        return 0

    run_worker("flaky", one_pass, loop=True, interval=0.1, stop=stop, recover=lambda: events.append(("recover", 0)))
    assert [kind for kind, _ in events] == ["pass", "recover", "pass", "recover", "pass"]
    passes = [at for kind, at in events if kind == "pass"]
    # Backoff doubles: 0.1 s after the first failure, 0.2 s after the second.
    assert 0.1 <= passes[1] - passes[0] < 1.0 and 0.2 <= passes[2] - passes[1] < 1.5


def test_without_loop_a_failing_pass_raises():
    def one_pass():
        raise RuntimeError("bank unreachable")

    with pytest.raises(RuntimeError, match="bank unreachable"):
        run_worker("once", one_pass, loop=False, interval=10, recover=lambda: pytest.fail("no retry without --loop"))


def test_stop_during_the_backoff_ends_the_worker_at_once():
    stop = threading.Event()

    def one_pass():
        stop.set()  # SIGTERM arrives while the pass fails
        raise RuntimeError("boom")

    started = time.monotonic()
    run_worker("stopping", one_pass, loop=True, interval=20, stop=stop)
    assert time.monotonic() - started < 5
