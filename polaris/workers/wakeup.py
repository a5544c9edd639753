"""Waking workers as soon as there is work, instead of only every ``--interval`` seconds.

On PostgreSQL a worker LISTENs on a channel and whoever creates work NOTIFYs it when the creating
database transaction commits, so the wake-up never precedes the data. Other databases have no such
signal; there the worker polls at a short period. Either way ``--interval`` remains the upper bound
between passes, so a lost notification only costs latency, never work.
"""

import select
import threading
import time

from django.db import connection, transaction

# How often a worker re-checks for work where the database cannot notify it.
POLL_PERIOD_SECONDS = 0.2


def notify(channel: str) -> None:
    """Wakes the workers listening on ``channel`` once the current database transaction commits."""
    if connection.vendor != "postgresql":
        return

    def send():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [channel])

    transaction.on_commit(send)


class Waiter:
    """Blocks until a notification on one of ``channels`` arrives, the timeout passes, or ``stop`` is set."""

    def __init__(self, channels: list[str], stop: threading.Event):
        self.channels = channels
        self.stop = stop
        self._listener = None

    def wait(self, timeout: float) -> None:
        if connection.vendor != "postgresql" or not self.channels:
            self.stop.wait(min(timeout, POLL_PERIOD_SECONDS))
            return
        listener = self._connect()
        deadline = time.monotonic() + timeout
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Short slices so that a stop request is seen within half a second.
            ready, _, _ = select.select([listener.fileno()], [], [], min(remaining, 0.5))
            if ready:
                # Drain every queued notification: one pass handles them all.
                if any(True for _ in listener.notifies(timeout=0)):
                    return

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _connect(self):
        """A dedicated autocommit connection: LISTEN must not sit inside the ORM's transactions."""
        if self._listener is None or self._listener.closed:
            import psycopg

            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            self._listener = psycopg.connect(**params, autocommit=True)
            for channel in self.channels:
                self._listener.execute(f'LISTEN "{channel}"')
        return self._listener
