"""For the PostgreSQL tests of row locks: one thread holds the locks while another waits for them."""

import threading
from typing import Callable

from django.db import connections
from django.db import transaction as db_transaction


def contend_with_a_lock_holder(hold: Callable[[], object], contend: Callable[[], object]) -> Exception | None:
    """Runs ``hold()`` in a database transaction that stays open, its row locks held, until ``contend()``
    (started once ``hold`` returned) has been waiting for them half a second; then commits it and lets
    ``contend`` finish. Each runs in its own thread, so on its own connection. Returns what ``contend``
    raised, or None."""
    held, commit, outcome = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with db_transaction.atomic():
                hold()
                held.set()
                commit.wait(10)
        finally:
            connections.close_all()

    def contender():
        try:
            contend()
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(10), "the lock holder did not finish its work"
    second = threading.Thread(target=contender)
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the contender did not wait for the holder's locks"
    commit.set()
    first.join(10)
    second.join(10)
    return outcome.get("error")
