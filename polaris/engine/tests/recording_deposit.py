"""A DepositIntegration for the after_deposit tests: one line per call in a file, so calls can be counted
across worker processes too. Worker subprocesses register it when ``AFTER_DEPOSIT_LOG`` names the file (see
``integrations_app``).
"""

from pathlib import Path
from typing import NamedTuple

from django.db import connection

from polaris.integrations import DepositIntegration
from polaris.models import Transaction

LOG_ENV = "AFTER_DEPOSIT_LOG"


class Call(NamedTuple):
    deposit_id: str
    status: str  # of the instance passed in
    status_in_db: str  # read afresh during the call
    in_transaction: bool  # called inside an open database transaction (the completion's would be one)


class RecordingDeposit(DepositIntegration):
    def __init__(self, log: str | Path, *, raises: bool = False):
        self.log = Path(log)
        self.raises = raises

    def after_deposit(self, transaction, *args, **kwargs):
        status_in_db = Transaction.objects.values_list("status", flat=True).get(pk=transaction.pk)
        with self.log.open("a") as log:
            log.write(f"{transaction.pk} {transaction.status} {status_in_db} {connection.in_atomic_block}\n")
        if self.raises:
            raise RuntimeError("the anchor's after_deposit failed")


def recorded_calls(log: Path) -> list[Call]:
    if not log.exists():
        return []
    return [Call(deposit_id, status, status_in_db, in_transaction == "True")
            for deposit_id, status, status_in_db, in_transaction in map(str.split, log.read_text().splitlines())]
