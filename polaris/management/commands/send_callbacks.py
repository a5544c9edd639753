"""``send_callbacks [--loop] [--interval S]``: delivers the callback outbox (polaris.engine.notifications).

Safe to run as several processes: each claims different rows.
"""

from polaris.engine.notifications import CALLBACK_CHANNEL, send_due_callbacks
from polaris.workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "POST signed on_change_callback notifications from the outbox, retrying with backoff."
    worker_name = "send_callbacks"
    default_interval = 1.0
    channels = [CALLBACK_CHANNEL]

    def one_pass(self) -> int:
        return send_due_callbacks()
