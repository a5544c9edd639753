"""``poll_outgoing_transactions [--loop] [--interval S]``: completes payouts the rails report delivered.

Safe to run as several processes; see polaris.engine.payouts.
"""

from polaris.engine.payouts import poll_outgoing_transactions
from polaris.workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Pass pending_external withdrawals and sends to RailsIntegration.poll_outgoing_transactions."
    worker_name = "poll_outgoing_transactions"

    def one_pass(self) -> int:
        return poll_outgoing_transactions()
