"""The demo anchor's SEP-6/24 deposits and withdrawals and its SEP-12 customers, over the sandbox bank.

The seed's AnchorRails (``integrations.py``) moves the money; these integrations collect what it needs:
- Deposit: the amount (Polaris' amount form in SEP-24, ``amount`` in SEP-6) sets amount_in/expected/fee/out,
  and the user is told to send it at the sandbox bank to the anchor's account with the transaction's
  reference, which ``poll_pending_deposits`` looks for.
- Withdrawal: the amount and the customer's sandbox bank account id, checked with the bank now (the bank
  itself would accept any id and bounce the payment later) and kept in ``to_address``, where
  ``rails.submit_payment`` pays.
- SEP-6 has no interactive page to collect KYC, so it first asks for a SEP-12 customer with KYC_FIELDS.
"""

from django import forms
from django.core.exceptions import ObjectDoesNotExist

from polaris.integrations import CustomerIntegration, DepositIntegration, WithdrawalIntegration
from polaris.sep12.views import identify
from polaris.sep24.forms import TransactionForm
from polaris.templates import Template

from .models import KYC_FIELDS, Customer
from .rails import ANCHOR_ACCOUNT, BankError, get_account, get_reference_id

# The descriptions the instructions carry; the more_info page shows them as labels, which is how the
# scripted wallet (examples/wallet.py) reads a SEP-24 deposit's instructions, as a person would.
BANK_ACCOUNT_LABEL = "Bank account"
REFERENCE_LABEL = "Reference"


def deposit_instructions(transaction) -> dict:
    """SEP-6 ``instructions``: where to send the money at the sandbox bank, and the reference to use."""
    return {
        "organization.bank_account_number": {"value": ANCHOR_ACCOUNT, "description": BANK_ACCOUNT_LABEL},
        "external_transfer_memo": {"value": get_reference_id(transaction), "description": REFERENCE_LABEL},
    }


def check_bank_account(account_id: str) -> str:
    """The account id if the bank can pay into it; ValueError with a message for the user otherwise."""
    account_id = (account_id or "").strip()
    try:
        account = get_account(account_id)
        currency = get_account(ANCHOR_ACCOUNT)["currency"]
    except BankError as error:
        if error.status is not None and error.status < 500:
            raise ValueError(f"The sandbox bank has no account {account_id!r}.") from None
        raise ValueError("The sandbox bank cannot be reached right now; please try again.") from None
    if account["kind"] != "customer" or account["status"] != "open":
        raise ValueError(f"The bank account {account_id} cannot receive payments (closed or not a customer account).")
    if account["currency"] != currency:
        raise ValueError(f"The bank account {account_id} holds {account['currency']}, not {currency}.")
    return account_id


def _kyc_needed(token) -> dict | None:
    """SEP-6's answer when the token's customer has not given every KYC field over SEP-12, else None."""
    identity = identify({}, token)
    customer = _customers(identity["account"], identity["memo"]).first()
    missing = customer.missing_fields() if customer else list(KYC_FIELDS)
    return {"type": "non_interactive_customer_info_needed", "fields": missing} if missing else None


def _require_amount(params: dict) -> None:
    if params.get("amount") is None:
        raise ValueError("'amount' is required")


class BankAccountForm(TransactionForm):
    """Polaris' amount form plus the customer's sandbox bank account, so a withdrawal is one page."""

    bank_account = forms.CharField(
        label="Your sandbox bank account id", max_length=64, help_text="The id the sandbox bank gave you (acc_...)."
    )

    def clean_bank_account(self) -> str:
        try:
            return check_bank_account(self.cleaned_data["bank_account"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class BankDeposit(DepositIntegration):
    def content_for_template(self, request, template, form=None, transaction=None, *args, **kwargs):
        if template == Template.DEPOSIT:
            return {"guidance": "Next you will see the bank account and the reference to send the money with."}
        return {}

    def after_form_validation(self, request, form, transaction, *args, **kwargs):
        transaction.instructions = deposit_instructions(transaction)

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        kyc = _kyc_needed(token)
        if kyc:
            return kyc
        _require_amount(params)
        transaction.instructions = deposit_instructions(transaction)
        return {}


class BankWithdrawal(WithdrawalIntegration):
    def form_for_transaction(self, request, transaction, post_data=None, amount=None, *args, **kwargs):
        return None if transaction.to_address else BankAccountForm(transaction, data=post_data)

    def content_for_template(self, request, template, form=None, transaction=None, *args, **kwargs):
        if template == Template.WITHDRAW:
            return {"guidance": "The sandbox bank pays the amount, less the fee, into this account."}
        return {}

    def after_form_validation(self, request, form, transaction, *args, **kwargs):
        transaction.to_address = form.cleaned_data["bank_account"]

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        kyc = _kyc_needed(token)
        if kyc:
            return kyc
        _require_amount(params)
        if not params.get("dest"):
            raise ValueError("'dest' is required: your sandbox bank account id")
        transaction.to_address = check_bank_account(params["dest"])
        return {}


def _customers(account: str, memo: str | None):
    return Customer.objects.filter(stellar_account=account, memo=memo) if memo else Customer.objects.filter(
        stellar_account=account, memo__isnull=True
    )


def _field(name: str, status: str | None = None) -> dict:
    field = {"type": "string", "description": KYC_FIELDS[name]}
    return {**field, "status": status} if status else field


class Customers(CustomerIntegration):
    """SEP-12 GET/PUT/DELETE over the Customer table; callbacks and verification codes are not offered."""

    def _find(self, params: dict) -> Customer | None:
        found = _customers(params["account"], params["memo"])
        if params.get("id"):
            return found.get(id=params["id"])  # DoesNotExist is a 404, a malformed id a 400
        return found.first()

    def get(self, token, request, params, *args, **kwargs):
        customer = self._find(params)
        if customer is None:
            return {"status": "NEEDS_INFO", "fields": {name: _field(name) for name in KYC_FIELDS}}
        missing = customer.missing_fields()
        answer = {
            "id": customer.id,
            "status": "NEEDS_INFO" if missing else "ACCEPTED",
            "provided_fields": {name: _field(name, "ACCEPTED") for name in KYC_FIELDS if name not in missing},
        }
        if missing:
            answer["fields"] = {name: _field(name) for name in missing}
        return answer

    def put(self, token, request, params, *args, **kwargs):
        customer = self._find(params) or Customer(stellar_account=params["account"], memo=params["memo"])
        for name in KYC_FIELDS:
            if params.get(name) not in (None, ""):
                setattr(customer, name, str(params[name]))
        customer.save()
        return customer.id

    def delete(self, token, request, account, memo, memo_type, *args, **kwargs):
        deleted, _ = _customers(account, memo).delete()
        if not deleted:
            raise ObjectDoesNotExist("no customer for this account")
