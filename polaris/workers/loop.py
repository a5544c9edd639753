"""The pass loop every worker runs.

A worker is a function that does one pass of work and returns how many items it handled. With
``loop=False`` it runs one pass (as Polaris' commands do without ``--loop``). With ``loop=True`` it
runs passes until SIGTERM or SIGINT: immediately again after a pass that found work (so a backlog
drains at full speed), otherwise after a wake-up or ``interval`` seconds, whichever comes first.
A signal never interrupts a pass; the worker stops between passes, so no step is cut in half by us.

A pass that raises (the database locked or restarting, Horizon or the bank unreachable, a bug) does not
end a looping worker: it logs the traceback, waits (``interval``, doubling up to ``MAX_BACKOFF`` while
passes keep failing), runs ``recover`` and goes on. That is a restart without the process exit: every
engine step is written to survive its process dying at any point, so it survives an exception too, and
``recover`` is the same start-up work a restarted worker does. Without ``loop`` the exception propagates,
so a one-off run exits non-zero.
"""

import logging
import signal
import threading
from typing import Callable

from django.db import close_old_connections, connections

from polaris.workers.wakeup import Waiter

logger = logging.getLogger("polaris.workers")

MAX_BACKOFF = 30.0


def run_worker(
    name: str,
    one_pass: Callable[[], int],
    *,
    loop: bool,
    interval: float,
    channels: list[str] | None = None,
    stop: threading.Event | None = None,
    recover: Callable[[], object] | None = None,
) -> None:
    stop = stop or threading.Event()
    previous_handlers = {}
    if loop and threading.current_thread() is threading.main_thread():
        previous_handlers = _stop_on_signals(stop, name)
    waiter = Waiter(channels or [], stop)
    logger.info("%s started (loop=%s, interval=%ss)", name, loop, interval)
    failures = 0
    try:
        while True:
            close_old_connections()
            try:
                if failures and recover is not None:
                    recover()
                handled = one_pass()
            except Exception:
                if not loop:
                    raise
                failures += 1
                backoff = min(interval * 2 ** (failures - 1), MAX_BACKOFF)
                logger.exception("%s: pass failed (%d in a row); retrying in %.1f s", name, failures, backoff)
                connections.close_all()  # the connection may be mid-transaction or broken: start afresh
                if stop.wait(backoff):
                    break
                continue
            if failures:
                logger.info("%s: pass succeeded after %d failure(s)", name, failures)
                failures = 0
            if handled:
                logger.debug("%s handled %d item(s)", name, handled)
            if not loop or stop.is_set():
                break
            if not handled:
                waiter.wait(interval)
                if stop.is_set():
                    break
    finally:
        waiter.close()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        logger.info("%s stopped", name)


def _stop_on_signals(stop: threading.Event, name: str) -> dict:
    def handle(signum, frame):
        logger.info("%s: %s received, stopping after the current pass", name, signal.Signals(signum).name)
        stop.set()

    return {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}
