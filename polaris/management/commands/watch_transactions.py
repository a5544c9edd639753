"""``watch_transactions [--loop] [--interval S] [--start-cursor now|TOKEN]``: records payments to the
distribution accounts and matches them to withdrawals and sends (polaris.engine.watcher).

With ``--loop`` it streams every account until SIGTERM and picks up new distribution accounts every
``--interval`` seconds; without it, one pass reads everything after the stored cursors and exits. Safe to
run as several processes: on PostgreSQL one leads each account's stream, the others stand by.
"""

from django.core.management.base import CommandParser

from polaris.engine.watcher import Watcher, catch_up, distribution_accounts
from polaris.workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Stream payments to every distribution account, record each once, and queue matched payouts."
    worker_name = "watch_transactions"
    default_interval = 5.0

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--start-cursor",
            default="now",
            help="where an account with no stored cursor starts: 'now' (default) or a paging token",
        )

    def handle(self, *args, **options) -> None:
        self.start_cursor = options["start_cursor"]
        self.watcher = Watcher(self.start_cursor) if options["loop"] else None
        try:
            super().handle(*args, **options)
        finally:
            if self.watcher is not None:
                self.watcher.stop()

    def one_pass(self) -> int:
        if self.watcher is not None:
            return self.watcher.refresh()
        return sum(catch_up(account, self.start_cursor) for account in distribution_accounts())
