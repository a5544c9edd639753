"""``process_pending_deposits [--loop] [--interval S]``: pays funded deposits on Stellar, each exactly once.

Safe to run as several processes on PostgreSQL (one builds per distribution account at a time; the others
resolve and stand by); on SQLite run one. See polaris.engine.deposits.
"""

from django.core.management.base import CommandParser

from polaris.engine import deposits
from polaris.workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Ask the rails which deposits were funded and pay them on Stellar (batched, through channel accounts)."
    worker_name = "process_pending_deposits"
    channels = [deposits.WAKEUP_CHANNEL]

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        defaults = deposits.Options()
        parser.add_argument("--envelope-timeout", type=int, default=defaults.envelope_timeout,
                            help="seconds an envelope stays valid after the network's current ledger time")
        parser.add_argument("--max-channels", type=int, default=defaults.max_channels,
                            help="envelopes in flight at once per distribution account (channel accounts)")
        parser.add_argument("--resolve-after", type=float, default=defaults.resolve_after,
                            help="age in seconds after which a pending envelope is resolved by hash")

    def prepare(self, **options) -> None:
        self.engine_options = deposits.Options(
            envelope_timeout=options["envelope_timeout"],
            max_channels=options["max_channels"],
            resolve_after=options["resolve_after"],
        )
        deposits.prepare(self.engine_options)

    def one_pass(self) -> int:
        return deposits.process_pending_deposits(self.engine_options)
