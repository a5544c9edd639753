"""SEP-6 and SEP-24 hooks for deposits and withdrawals, with django-polaris' method names and signatures.

The SEP-6/24 views call these; the defaults never accept money or data they cannot handle: no extra form
or template context, no external interactive URL, SEP-9 fields refused, SEP-6 requests not implemented.
"""

from typing import Dict, List, Optional

from django import forms
from rest_framework.request import Request

from polaris.models import Asset, Transaction


class _TransactionIntegration:
    def form_for_transaction(
        self,
        request: Request,
        transaction: Transaction,
        post_data: Optional[dict] = None,
        amount: Optional[float] = None,
        *args: List,
        **kwargs: Dict,
    ) -> Optional[forms.Form]:
        """The next SEP-24 interactive form for ``transaction``, or ``None`` when no more are needed."""
        return None

    def content_for_template(
        self,
        request: Request,
        template,
        form: Optional[forms.Form] = None,
        transaction: Optional[Transaction] = None,
        *args: List,
        **kwargs: Dict,
    ) -> Optional[Dict]:
        """Context for the interactive page ``template`` (title, guidance, ``template_name``, ...)."""
        return {}

    def after_form_validation(
        self, request: Request, form: forms.Form, transaction: Transaction, *args: List, **kwargs: Dict
    ) -> None:
        """Use a validated form's data: amounts, fees, status, the quote of an exchange."""

    def interactive_url(
        self,
        request: Request,
        transaction: Transaction,
        asset: Asset,
        amount: Optional[float],
        callback: Optional[str],
        lang: Optional[str],
        *args: List,
        **kwargs: Dict,
    ) -> Optional[str]:
        """An external URL to run the interactive flow instead of Polaris' forms; ``None`` keeps the forms."""
        return None

    def after_interactive_flow(self, request: Request, transaction: Transaction, *args: List, **kwargs: Dict) -> None:
        """Called when an external interactive flow returns: set the status, amounts and fees."""

    def save_sep9_fields(
        self,
        token,
        request: Request,
        stellar_account: str,
        fields: Dict,
        language_code: str,
        muxed_account: Optional[str] = None,
        account_memo: Optional[str] = None,
        account_memo_type: Optional[str] = None,
        *args: List,
        **kwargs: Dict,
    ) -> None:
        """Store SEP-9 KYC fields sent with the request. Raise ``ValueError`` (a 400) to refuse them.

        The default refuses any fields, so KYC data is never silently dropped.
        """
        if fields:
            raise ValueError(f"this anchor does not accept SEP-9 fields: {', '.join(sorted(fields))}")

    def process_sep6_request(
        self, token, request: Request, params: Dict, transaction: Transaction, *args: List, **kwargs: Dict
    ) -> Dict:
        """Answer a SEP-6 request (``how``/``extra_info``, or customer info needed/status)."""
        raise NotImplementedError("SEP-6 requests are not handled by this anchor")

    def patch_transaction(
        self, token, request: Request, params: Dict, transaction: Transaction, *args: List, **kwargs: Dict
    ) -> None:
        """Apply a SEP-6 ``PATCH /transactions/:id`` with the fields asked for in ``required_info_updates``."""
        raise NotImplementedError("PATCH /transactions is not handled by this anchor")


class DepositIntegration(_TransactionIntegration):
    """Deposit hooks; register with ``register_integrations(deposit=...)``."""

    def after_deposit(self, transaction: Transaction, *args: List, **kwargs: Dict) -> None:
        """Called once the deposit's Stellar payment succeeded."""


class WithdrawalIntegration(_TransactionIntegration):
    """Withdrawal hooks; register with ``register_integrations(withdrawal=...)``."""
