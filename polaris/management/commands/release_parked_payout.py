"""``release_parked_payout TRANSACTION_ID --bank-did-not-pay [--operator NAME]``: sends a parked payout back
to the queue for one more execution (polaris.engine.payouts.release_parked_payout). Exit code 2 when the
release is refused; nothing is written then.
"""

import getpass
import os
import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from polaris.engine.payouts import PayoutReleaseRefused, release_parked_payout


def login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in the password database
        return f"uid {os.getuid()}"


class Command(BaseCommand):
    help = "Release a parked payout for one more execute_outgoing_transaction call, once the bank has no payment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("transaction_id", type=uuid.UUID, help="the id of the transaction whose payout is parked")
        parser.add_argument("--bank-did-not-pay", action="store_true",
                            help="confirms that the bank has no payment for this transaction (required)")
        parser.add_argument("--operator", default=f"cli:{login_name()}",
                            help="who releases it, recorded in the history (default: cli:<your login>)")

    def handle(self, *args, **options) -> None:
        try:
            transaction = release_parked_payout(
                options["transaction_id"], operator=options["operator"],
                bank_did_not_pay=options["bank_did_not_pay"],
            )  # fmt: skip
        except PayoutReleaseRefused as refusal:
            raise CommandError(f"not released: {refusal}", returncode=2) from None
        self.stdout.write(f"released the payout of {transaction.id}: queued, transaction {transaction.status}")
