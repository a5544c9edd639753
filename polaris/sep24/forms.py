"""The amount form Polaris shows when the anchor's integration does not collect the amount itself."""

from decimal import Decimal

from django import forms
from django.core.validators import DecimalValidator, MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from polaris.models import Transaction
from polaris.shared.fees import calculate_fee, set_amounts


class TransactionForm(forms.Form):
    """The amount, bounded by the asset's limits and decimals; ``apply()`` sets the amounts and fee.

    Integrations may return it (or a subclass) from ``form_for_transaction`` to place it in their own flow.
    """

    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.0000001"), max_digits=30)

    def __init__(self, transaction: Transaction, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transaction = transaction
        asset = transaction.asset
        is_deposit = transaction.kind in (Transaction.KIND.deposit, Transaction.KIND.deposit_exchange)
        prefix = "deposit" if is_deposit else "withdrawal"
        self.operation = "deposit" if is_deposit else "withdraw"
        field = self.fields["amount"]
        field.validators.append(DecimalValidator(None, asset.significant_decimals))
        field.widget.attrs.update({"step": str(Decimal(1).scaleb(-asset.significant_decimals)), "inputmode": "decimal"})
        minimum = getattr(asset, f"{prefix}_min_amount")
        maximum = getattr(asset, f"{prefix}_max_amount")
        if minimum is not None:
            field.validators.append(MinValueValidator(minimum))
            field.widget.attrs["min"] = str(minimum)
        if maximum is not None:
            field.validators.append(MaxValueValidator(maximum))
            field.widget.attrs["max"] = str(maximum)
        field.help_text = self._limits_text(minimum, maximum, asset.code)
        if transaction.amount_expected is not None and not self.is_bound:
            self.initial["amount"] = transaction.amount_expected

    @staticmethod
    def _limits_text(minimum, maximum, code) -> str:
        if minimum is not None and maximum is not None:
            return _("Between %(min)s and %(max)s %(code)s.") % {"min": minimum.normalize(), "max": maximum.normalize(), "code": code}
        if minimum is not None:
            return _("At least %(min)s %(code)s.") % {"min": minimum.normalize(), "code": code}
        if maximum is not None:
            return _("At most %(max)s %(code)s.") % {"max": maximum.normalize(), "code": code}
        return ""

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if calculate_fee(self.transaction.asset, self.operation, amount) >= amount:
            raise forms.ValidationError(_("The amount must be larger than the fee."))
        return amount

    def apply(self) -> None:
        """Set the amounts, fee and fee details on the transaction from the validated amount (not saved)."""
        set_amounts(self.transaction, self.cleaned_data["amount"], self.operation)
