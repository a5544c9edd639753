"""The SEP-6/24/31 transaction object as JSON, for GET /transaction(s) and for callback bodies.

``transaction_json(transaction)`` returns the dict that goes inside ``{"transaction": ...}``; its shape
follows ``transaction.protocol`` (override with ``protocol=``). Every key the SEP defines for the protocol
is present, ``None`` when unknown (SEP digest §10.1: "unknown values should be null, not left out").
Amounts are decimal strings that never lose precision and show at least the asset's significant decimals;
timestamps are UTC ISO 8601 with ``Z``.
"""

from datetime import datetime, timezone
from decimal import Decimal

from polaris.conf import settings
from polaris.models import Transaction

K = Transaction.KIND


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def format_amount(value, decimals: int = 2) -> str | None:
    """``Decimal("10.5")`` → ``"10.50"`` with 2 decimals; more decimals are kept, never rounded away."""
    if value is None:
        return None
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    places = max(decimals, -exponent if isinstance(exponent, int) else 0)
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def more_info_url(transaction: Transaction, protocol: str | None = None) -> str:
    """The transaction's public status page: the anchor's own when it set one, else ours."""
    if transaction.more_info_url:
        return transaction.more_info_url
    prefix = "sep6" if (protocol or transaction.protocol) == Transaction.PROTOCOL.sep6 else "sep24"
    return f"{settings.HOST_URL}/{prefix}/transaction/more_info?id={transaction.id}"


def _fee_details(transaction: Transaction, amount) -> dict | None:
    asset_id = transaction.amount_fee_asset or transaction.asset.asset_identification_format
    if transaction.fee_details:
        details = dict(transaction.fee_details)
        details["total"] = amount(details.get("total"))
        details.setdefault("asset", asset_id)
        if details.get("details"):
            details["details"] = [{**item, "amount": amount(item.get("amount"))} for item in details["details"]]
        return details
    if transaction.amount_fee is None:
        return None
    return {"total": amount(transaction.amount_fee), "asset": asset_id}


def _refunds(transaction: Transaction, amount, with_id_type: bool) -> dict | None:
    if not transaction.refunds:
        return None
    refunds = transaction.refunds
    payments = []
    for payment in refunds.get("payments", []):
        item = {"id": payment.get("id"), "amount": amount(payment.get("amount")), "fee": amount(payment.get("fee"))}
        if with_id_type:
            item["id_type"] = payment.get("id_type", "stellar")
        payments.append(item)
    return {
        "amount_refunded": amount(refunds.get("amount_refunded")),
        "amount_fee": amount(refunds.get("amount_fee")),
        "payments": payments,
    }


def transaction_json(transaction: Transaction, *, protocol: str | None = None) -> dict:
    """The SEP transaction object for ``transaction`` (the value of the ``"transaction"`` key)."""
    protocol = protocol or transaction.protocol or Transaction.PROTOCOL.sep24
    decimals = transaction.asset.significant_decimals

    def amount(value):
        return format_amount(value, decimals)

    is_deposit = transaction.kind in (K.deposit, K.deposit_exchange)
    fee_details = _fee_details(transaction, amount)
    common = {
        "id": str(transaction.id),
        "status": transaction.status,
        "status_eta": transaction.status_eta,
        "amount_in": amount(transaction.amount_in),
        "amount_in_asset": transaction.amount_in_asset,
        "amount_out": amount(transaction.amount_out),
        "amount_out_asset": transaction.amount_out_asset,
        "amount_fee": amount(transaction.amount_fee),
        "amount_fee_asset": transaction.amount_fee_asset,
        "fee_details": fee_details,
        "quote_id": str(transaction.quote_id) if transaction.quote_id else None,
        "started_at": iso_datetime(transaction.started_at),
        "updated_at": iso_datetime(transaction.updated_at),
        "completed_at": iso_datetime(transaction.completed_at),
        "stellar_transaction_id": transaction.stellar_transaction_id,
        "external_transaction_id": transaction.external_transaction_id,
        "refunded": transaction.refunded,
        "refunds": _refunds(transaction, amount, with_id_type=protocol != Transaction.PROTOCOL.sep31),
    }
    if protocol == Transaction.PROTOCOL.sep31:
        return {
            **common,
            "status_message": transaction.status_message,
            "stellar_account_id": transaction.receiving_anchor_account,
            "stellar_memo": transaction.memo,
            "stellar_memo_type": transaction.memo_type if transaction.memo else None,
            "required_info_message": transaction.required_info_message,
            "required_info_updates": transaction.required_info_updates,
        }

    body = {
        **common,
        "kind": transaction.kind,
        "message": transaction.status_message or transaction.message,
        "more_info_url": (
            more_info_url(transaction, protocol)
            if protocol == Transaction.PROTOCOL.sep24 or settings.SEP6_USE_MORE_INFO_URL or transaction.more_info_url
            else None
        ),
        "from": transaction.from_address,
        "to": transaction.to_address,
        "user_action_required_by": iso_datetime(transaction.user_action_required_by),
        "claimable_balance_id": transaction.claimable_balance_id,
    }
    if is_deposit:
        body["deposit_memo"] = transaction.memo
        body["deposit_memo_type"] = transaction.memo_type if transaction.memo else None
    else:
        body["withdraw_anchor_account"] = transaction.receiving_anchor_account
        body["withdraw_memo"] = transaction.memo
        body["withdraw_memo_type"] = transaction.memo_type if transaction.memo else None
    if protocol == Transaction.PROTOCOL.sep24:
        body["kyc_verified"] = transaction.kyc_verified
        if fee_details and fee_details.get("details"):
            # SEP-24's text names the list "breakdown"; the other SEPs say "details" (digest §12.1): send both.
            fee_details["breakdown"] = fee_details["details"]
    else:
        body["external_extra"] = transaction.external_extra
        body["external_extra_text"] = transaction.external_extra_text
        body["required_info_message"] = transaction.required_info_message
        body["required_info_updates"] = transaction.required_info_updates
        body["required_customer_info_message"] = transaction.required_customer_info_message
        body["required_customer_info_updates"] = transaction.required_customer_info_updates
        body["instructions"] = transaction.instructions
    return body
