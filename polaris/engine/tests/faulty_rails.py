"""The seed's AnchorRails with a fault a kill test chooses through the environment (PAYOUT_FAULT).

- ``hang_before_bank``: write PAYOUT_FAULT_MARKER, then hang before paying (SIGKILL lands after the mark);
- ``hang_after_bank``: pay at the bank (and save the status), write the marker, then hang (SIGKILL lands
  after the payout but before the engine recorded its outcome);
- ``raise``: raise before paying;
- ``record``: no fault, only the marker line (to count calls across worker processes).
The marker file gets one line per call, so a test can prove the integration was called exactly once.
"""

import os
import time

from examples.anchor.integrations import AnchorRails


class FaultyAnchorRails(AnchorRails):
    def execute_outgoing_transaction(self, transaction, *args, **kwargs):
        fault = os.environ["PAYOUT_FAULT"]
        if fault == "raise":
            self._mark(transaction)
            raise RuntimeError("the bank connection is misconfigured")
        if fault in ("hang_before_bank", "record"):
            self._mark(transaction)
        if fault == "hang_before_bank":
            time.sleep(3600)
        super().execute_outgoing_transaction(transaction, *args, **kwargs)
        if fault == "hang_after_bank":
            self._mark(transaction)
            time.sleep(3600)

    @staticmethod
    def _mark(transaction) -> None:
        with open(os.environ["PAYOUT_FAULT_MARKER"], "a") as marker:
            marker.write(f"{transaction.id}\n")

