"""The bridge to the anchor's off-chain payment rails (bank, card, mobile money, ...)."""

from typing import Dict, List

from django.db.models import QuerySet

from polaris.models import Transaction


class RailsIntegration:
    """Subclass and register with ``register_integrations(rails=...)``; the workers call these methods.

    The defaults are safe for an anchor that has not connected its rails: no deposit is ever reported as
    funded, no payout is ever reported as delivered, and a payout is refused rather than skipped.
    """

    def poll_pending_deposits(self, pending_deposits: QuerySet, *args: List, **kwargs: Dict) -> List[Transaction]:
        """Return the deposits in ``pending_deposits`` whose off-chain funds have arrived.

        Called by ``process_pending_deposits`` with deposits in ``pending_user_transfer_start`` or
        ``pending_external``. Set and save ``amount_in`` (and, if you compute them, ``amount_fee`` and
        ``amount_out``) on each one you return. Default: nothing has arrived.
        """
        return []

    def execute_outgoing_transaction(self, transaction: Transaction, *args: List, **kwargs: Dict) -> None:
        """Pay out a withdrawal or send off-chain, then set its status and ``save()``.

        Called once per transaction by ``execute_outgoing_transactions`` after its Stellar payment was
        received (``amount_in`` is what arrived). Move it to ``completed``, ``pending_external`` (initiated,
        not yet delivered) or ``error``. The default raises, so the engine parks the transaction for a
        person instead of treating it as paid.
        """
        raise NotImplementedError(
            "no RailsIntegration registered: subclass it and call register_integrations(rails=...)"
        )

    def poll_outgoing_transactions(self, transactions: QuerySet, *args: List, **kwargs: Dict) -> List[Transaction]:
        """Return the ``pending_external`` withdrawals and sends in ``transactions`` that were delivered.

        ``poll_outgoing_transactions`` moves the returned ones to ``completed``; you may also move failed
        ones to ``error`` yourself. Default: nothing confirmed yet.
        """
        return []
