"""The transaction JSON: keys per protocol, amounts as exact strings, timestamps with Z."""

from decimal import Decimal

import pytest

from polaris.models import Transaction
from polaris.shared.serializers import format_amount, transaction_json

pytestmark = pytest.mark.django_db


def test_format_amount_pads_to_decimals_and_never_rounds():
    assert format_amount(Decimal("10.5"), 2) == "10.50"
    assert format_amount(Decimal("10.1234567"), 2) == "10.1234567"
    assert format_amount(Decimal("1E+2"), 0) == "100"
    assert format_amount(None) is None


def make(asset, **fields):
    return Transaction.objects.create(**{"kind": "withdrawal", "status": "incomplete", "asset": asset, **fields})


def test_sep24_withdrawal_shape_and_fee_breakdown(usd):
    details = {"total": "3", "asset": "x", "details": [{"name": "service", "amount": "3"}]}
    body = transaction_json(make(usd, protocol="sep24", amount_in=Decimal("50"), fee_details=details, memo="5", memo_type="id"))
    assert body["amount_in"] == "50.00" and body["started_at"].endswith("Z")
    assert body["fee_details"]["details"] == body["fee_details"]["breakdown"] == [{"name": "service", "amount": "3.00"}]
    assert body["withdraw_memo"] == "5" and body["withdraw_memo_type"] == "id" and "deposit_memo" not in body
    assert body["kyc_verified"] is None and "instructions" not in body and body["more_info_url"]


def test_sep6_deposit_and_sep31_shapes(usd):
    body = transaction_json(make(usd, kind="deposit", protocol="sep6", amount_fee=Decimal(1)))
    assert body["fee_details"] == {"total": "1.00", "asset": usd.asset_identification_format}
    assert body["deposit_memo"] is None and body["deposit_memo_type"] is None
    assert {"instructions", "required_info_updates", "external_extra"} <= set(body) and "kyc_verified" not in body
    refunds = {"amount_refunded": "10", "amount_fee": "1", "payments": [{"id": "h", "amount": "10", "fee": "1"}]}
    sep31 = transaction_json(make(usd, kind="send", status="pending_sender", protocol="sep31", refunds=refunds,
                                  receiving_anchor_account="GX", memo="m", memo_type="text"))
    assert sep31["stellar_account_id"] == "GX" and sep31["stellar_memo_type"] == "text" and "kind" not in sep31
    assert sep31["refunds"]["payments"] == [{"id": "h", "amount": "10.00", "fee": "1.00"}]
