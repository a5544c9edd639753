"""The base of the four worker commands: ``--loop`` and ``--interval`` as the seed shows them."""

from django.core.management.base import BaseCommand, CommandParser

from polaris.workers.loop import run_worker


class WorkerCommand(BaseCommand):
    """Subclasses set ``worker_name``, ``default_interval``, ``channels`` and implement ``one_pass``."""

    worker_name: str
    default_interval: float = 10.0
    channels: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running passes until SIGTERM")
        parser.add_argument(
            "--interval",
            type=float,
            default=self.default_interval,
            help="the longest wait between passes, in seconds; new work wakes the worker sooner",
        )

    def handle(self, *args, **options) -> None:
        if options["interval"] <= 0:
            self.stderr.write("--interval must be positive")
            raise SystemExit(2)
        self.prepare(**options)
        run_worker(
            self.worker_name,
            self.one_pass,
            loop=options["loop"],
            interval=options["interval"],
            channels=self.channels,
            recover=lambda: self.prepare(**options),
        )

    def prepare(self, **options) -> None:
        """Runs before the first pass and again after a pass that raised: the place to resolve work a crash
        (or the failed pass) left unfinished."""

    def one_pass(self) -> int:
        raise NotImplementedError
