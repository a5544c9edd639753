"""``execute_outgoing_transactions [--loop] [--interval S]``: pays out received withdrawals and sends, once each.

Safe to run as several processes (claims skip each other's rows); see polaris.engine.payouts.
"""

from polaris.engine.payouts import PAYOUT_CHANNEL, execute_outgoing_transactions
from polaris.workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Call RailsIntegration.execute_outgoing_transaction once for each withdrawal or send paid on Stellar."
    worker_name = "execute_outgoing_transactions"
    channels = [PAYOUT_CHANNEL]

    def one_pass(self) -> int:
        return execute_outgoing_transactions()
