"""The demo anchor's off-chain rail: the sandbox bank (examples/sandbox_bank), over HTTP.

This is the `rails` module the seed's AnchorRails (integrations.py) imports. The bank's URL comes from
SANDBOX_BANK_URL (default http://127.0.0.1:8100). Every call has a timeout, and every request is safe to
repeat — reads, and payments and refunds carrying an idempotency key — so a lost response or a dropped
connection is retried here and can never produce a second payment.

Transaction fields read (via getattr, so plain objects work too):
- `id` (a UUID): the deposit reference and the payout's idempotency key.
- payout destination, the customer's account at the bank, first non-empty of `to_address` (Polaris' field
  behind the SEP `to`, which for a withdrawal is the external account) then `dest` (SEP-6's parameter).
- `amount_out` (payout), `amount_in` (refund, fee, limits), `external_transaction_id` (the bank payment id),
  `kind`, and `asset` with `{deposit,withdrawal,send}_{fee_fixed,fee_percent,min_amount,max_amount}` and
  `significant_decimals`; missing or None means no fee, no limit, 2 decimals (Polaris' defaults).
- `from_address`: where a refund goes back to (recorded on the refund request).
"""

import os
import time
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from urllib.parse import quote

import requests

ANCHOR_ACCOUNT = "anchor"
DESTINATION_FIELDS = ("to_address", "dest")
REFERENCE_LENGTH = 12
TIMEOUT = 10
ATTEMPTS = 3
# The bank's and Stellar's precision and ceiling (int64 stroops).
MAX_DECIMALS = 7
MAX_AMOUNT = Decimal("922337203685.4775807")


class PaymentStatus(str, Enum):
    INITIATED = "initiated"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Payment:
    id: str
    status: PaymentStatus
    to_account: str
    amount: Decimal
    failure_reason: str | None

    @classmethod
    def from_json(cls, data: dict) -> "Payment":
        return cls(data["id"], PaymentStatus(data["status"]), data["to_account"], Decimal(data["amount"]),
                   data["failure_reason"])


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    reference: str
    amount: Decimal


class BankError(Exception):
    """The bank refused a request (4xx) or stayed unreachable or broken (5xx) through every retry."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _bank_url() -> str:
    return os.environ.get("SANDBOX_BANK_URL", "http://127.0.0.1:8100").rstrip("/")


def _call(method: str, path: str, **kwargs) -> dict:
    """One bank request, retried on connection errors and 5xx: every request we send is idempotent."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = requests.request(method, _bank_url() + path, timeout=TIMEOUT, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == ATTEMPTS:
                raise BankError(f"sandbox bank unreachable: {exc}") from exc
        else:
            if response.status_code < 500 or attempt == ATTEMPTS:
                break
        time.sleep(0.2 * attempt)
    try:
        data = response.json()
    except ValueError:
        data = {"error": response.text[:200]}
    if response.status_code >= 400:
        raise BankError(f"{method} {path}: {response.status_code} {data.get('error')}", response.status_code)
    return data


def _amount(value, what: str) -> str:
    if value is None:
        raise ValueError(f"transaction has no {what}")
    return format(Decimal(str(value)).normalize(), "f")


def get_reference_id(transaction) -> str:
    """The reference the user puts on the bank transfer: the first 12 hex digits of the transaction's UUID,
    upper-case (e.g. "3F2A9C0D1B7E"). 48 bits keeps collisions out of reach for a demo's volume; the bank
    matches references without regard to case or surrounding spaces."""
    return uuid.UUID(str(transaction.id)).hex[:REFERENCE_LENGTH].upper()


def get_account(account_id: str) -> dict:
    """The customer's bank account (``id``, ``kind``, ``status``, ``currency``, ...); BankError 404 if unknown."""
    if not account_id:
        raise BankError("no account given", 404)
    return _call("GET", f"/accounts/{quote(account_id, safe='')}")


def has_received_payment(reference: str) -> bool:
    """True once a transfer carrying `reference` has reached the anchor's account."""
    data = _call("GET", "/transfers", params={"to_account": ANCHOR_ACCOUNT, "reference": reference})
    return bool(data["transfers"])


def _destination(transaction) -> str:
    for field in DESTINATION_FIELDS:
        value = getattr(transaction, field, None)
        if value:
            return str(value)
    raise ValueError(f"transaction {transaction.id} has no bank account in {' or '.join(DESTINATION_FIELDS)}")


def submit_payment(transaction) -> Payment:
    """Pays `amount_out` to the customer's bank account. The idempotency key is the transaction id, so a
    repeated call returns the first payment instead of paying twice (and a changed amount is refused)."""
    data = _call("POST", "/payments", json={
        "to_account": _destination(transaction),
        "amount": _amount(transaction.amount_out, "amount_out"),
        "idempotency_key": str(transaction.id),
        "memo": f"Stellar withdrawal {get_reference_id(transaction)}",
    })
    return Payment.from_json(data)


def get_payment(transaction) -> Payment:
    """The bank's payment for this transaction: by `external_transaction_id`, or, when that was never
    saved (a crash right after submit_payment), by the idempotency key submit_payment used."""
    payment_id = getattr(transaction, "external_transaction_id", None)
    if payment_id:
        return Payment.from_json(_call("GET", f"/payments/{payment_id}"))
    found = _call("GET", "/payments", params={"idempotency_key": str(transaction.id)})["payments"]
    if not found:
        raise LookupError(f"the bank has no payment for transaction {transaction.id}")
    return Payment.from_json(found[0])


def _asset_setting(transaction, name: str):
    """The asset's `{deposit|withdrawal|send}_{name}` for this transaction's kind, or None."""
    kind = str(getattr(transaction, "kind", None) or "withdrawal")
    prefix = "deposit" if kind.startswith("deposit") else "send" if kind == "send" else "withdrawal"
    return getattr(getattr(transaction, "asset", None), f"{prefix}_{name}", None)


def calculate_fee(transaction) -> Decimal:
    """fee_fixed + fee_percent% of amount_in, rounded half-up to the asset's significant decimals and never
    more than amount_in."""
    amount_in = Decimal(_amount(transaction.amount_in, "amount_in"))
    fixed = Decimal(str(_asset_setting(transaction, "fee_fixed") or 0))
    percent = Decimal(str(_asset_setting(transaction, "fee_percent") or 0))
    decimals = getattr(getattr(transaction, "asset", None), "significant_decimals", None)
    quantum = Decimal(1).scaleb(-(2 if decimals is None else decimals))
    fee = (fixed + percent / 100 * amount_in).quantize(quantum, rounding=ROUND_HALF_UP)
    return min(fee, amount_in)


def is_valid_payment_amount(amount, transaction=None) -> bool:
    """Whether the bank can pay `amount`: a positive number with at most 7 decimals, up to Stellar's
    maximum; with `transaction`, also within its asset's min_amount/max_amount for its kind. (The seed
    passes only the amount.)"""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return False
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT or -value.normalize().as_tuple().exponent > MAX_DECIMALS:
        return False
    if transaction is not None:
        low, high = _asset_setting(transaction, "min_amount"), _asset_setting(transaction, "max_amount")
        if (low is not None and value < Decimal(str(low))) or (high is not None and value > Decimal(str(high))):
            return False
    return True


def initiate_refund(transaction) -> Refund:
    """Files a refund request at the bank for `amount_in`, keyed by the transaction so it is filed once.
    The bank records it for the anchor's operations; the money goes back over the rail it came in on."""
    data = _call("POST", "/refunds", json={
        "reference": get_reference_id(transaction),
        "amount": _amount(transaction.amount_in, "amount_in"),
        "beneficiary": str(getattr(transaction, "from_address", None) or ""),
        "reason": "the amount received is not valid",
        "idempotency_key": f"refund:{transaction.id}",
    })
    return Refund(data["id"], data["status"], data["reference"], Decimal(data["amount"]))
