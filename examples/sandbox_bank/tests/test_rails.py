"""examples/anchor/rails.py against a real bank process. Transactions and assets are plain objects carrying
the fields rails.py reads (SimpleNamespace), not mocks: every call goes to the bank over HTTP."""

import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

from examples.anchor import rails
from examples.anchor.rails import PaymentStatus

from .conftest import Api


@pytest.fixture
def bank_api(api, monkeypatch) -> Api:
    monkeypatch.setenv("SANDBOX_BANK_URL", api.url)
    return api


def withdrawal(to_address=None, amount_out="10.00", **fields) -> SimpleNamespace:
    return SimpleNamespace(id=uuid.uuid4(), kind="withdrawal", to_address=to_address, amount_out=Decimal(amount_out),
                           amount_in=Decimal(amount_out), external_transaction_id=None, **fields)


def test_reference_is_stable_and_derived_from_the_uuid():
    tx_id = uuid.UUID("3f2a9c0d-1b7e-4c55-9a10-0123456789ab")
    assert rails.get_reference_id(SimpleNamespace(id=tx_id)) == "3F2A9C0D1B7E"
    assert rails.get_reference_id(SimpleNamespace(id=str(tx_id))) == "3F2A9C0D1B7E"


def test_has_received_payment(bank_api):
    deposit = SimpleNamespace(id=uuid.uuid4())
    reference = rails.get_reference_id(deposit)
    alice = bank_api.account(cash="100")
    bob = bank_api.account()
    assert rails.has_received_payment(reference) is False

    # The same reference on money that did not reach the anchor does not count.
    bank_api.ok("POST", "/transfers", {"from_account": alice["id"], "to_account": bob["id"], "amount": "1",
                                       "currency": "USD", "reference": reference}, status=201)
    assert rails.has_received_payment(reference) is False

    bank_api.ok("POST", "/transfers", {"from_account": alice["id"], "to_account": "anchor", "amount": "50",
                                       "currency": "USD", "reference": reference.lower()}, status=201)
    assert rails.has_received_payment(reference) is True
    assert rails.has_received_payment(rails.get_reference_id(SimpleNamespace(id=uuid.uuid4()))) is False


def test_submit_payment_is_once_per_transaction(bank_api):
    carol = bank_api.account()
    tx = withdrawal(to_address=carol["id"], amount_out="10.0000000")
    payment = rails.submit_payment(tx)
    assert payment.status is PaymentStatus.INITIATED and payment.amount == Decimal("10")
    assert rails.submit_payment(tx) == payment  # a retry returns the first payment

    payments = bank_api.ok("GET", "/payments", params={"to_account": carol["id"]})["payments"]
    assert [p["id"] for p in payments] == [payment.id]
    assert payments[0]["idempotency_key"] == str(tx.id)
    assert bank_api.balance("anchor") == "-10.00"

    tx.amount_out = Decimal("11")
    with pytest.raises(rails.BankError) as refused:
        rails.submit_payment(tx)
    assert refused.value.status == 409


def test_get_payment_follows_the_bank(bank_api):
    dave = bank_api.account()
    tx = withdrawal(to_address=dave["id"])
    tx.external_transaction_id = rails.submit_payment(tx).id
    assert rails.get_payment(tx).status is PaymentStatus.INITIATED

    bank_api.ok("POST", f"/payments/{tx.external_transaction_id}/settle", {"status": "delivered"})
    assert rails.get_payment(tx).status is PaymentStatus.DELIVERED
    assert bank_api.balance(dave["id"]) == "10.00"

    # Without a saved external_transaction_id (crash after submit), the idempotency key finds it.
    tx.external_transaction_id = None
    assert rails.get_payment(tx).id == rails.submit_payment(tx).id
    with pytest.raises(LookupError):
        rails.get_payment(withdrawal(to_address=dave["id"]))


def test_failed_payout_to_a_closed_account(start_bank, monkeypatch):
    api = Api(start_bank(settle_after=0).url)
    monkeypatch.setenv("SANDBOX_BANK_URL", api.url)
    erin = api.account()
    api.ok("POST", f"/accounts/{erin['id']}/close")
    tx = withdrawal(to_address=erin["id"])
    tx.external_transaction_id = rails.submit_payment(tx).id
    failed = rails.get_payment(tx)
    assert failed.status is PaymentStatus.FAILED and "closed" in failed.failure_reason
    assert api.balance("anchor") == "0.00"


def test_destination_fallback(bank_api):
    frank = bank_api.account()
    tx = withdrawal(to_address=None, dest=frank["id"])
    assert rails.submit_payment(tx).to_account == frank["id"]
    with pytest.raises(ValueError):
        rails.submit_payment(withdrawal(to_address=""))
    with pytest.raises(ValueError):
        rails.submit_payment(SimpleNamespace(id=uuid.uuid4(), to_address=frank["id"], amount_out=None))
    assert bank_api.ok("GET", "/payments")["payments"][0]["to_account"] == frank["id"]
    assert len(bank_api.ok("GET", "/payments")["payments"]) == 1


def test_calculate_fee_uses_the_asset_for_the_kind():
    asset = SimpleNamespace(withdrawal_fee_fixed=Decimal("1"), withdrawal_fee_percent=Decimal("2.5"),
                            deposit_fee_fixed=Decimal("0.5"), deposit_fee_percent=None, significant_decimals=2)
    assert rails.calculate_fee(SimpleNamespace(kind="withdrawal", amount_in=Decimal("100.10"), asset=asset)) \
        == Decimal("3.50")  # 1 + 2.5025 = 3.5025 -> 3.50
    assert rails.calculate_fee(SimpleNamespace(kind="deposit", amount_in=Decimal("100"), asset=asset)) \
        == Decimal("0.50")
    assert rails.calculate_fee(SimpleNamespace(kind="withdrawal", amount_in=Decimal("0.4"), asset=asset)) \
        == Decimal("0.4")  # never more than what came in
    assert rails.calculate_fee(SimpleNamespace(kind="withdrawal", amount_in=Decimal("100"), asset=None)) \
        == Decimal("0.00")


def test_is_valid_payment_amount():
    for good in ("10", Decimal("0.0000001"), "922337203685.4775807", Decimal("5.0000000000")):
        assert rails.is_valid_payment_amount(good), good
    for bad in ("0", "-1", "abc", None, "0.00000001", "922337203685.4775808", "NaN", "Infinity"):
        assert not rails.is_valid_payment_amount(bad), bad
    tx = SimpleNamespace(kind="withdrawal", asset=SimpleNamespace(withdrawal_min_amount=Decimal("5"),
                                                                  withdrawal_max_amount=Decimal("100")))
    assert rails.is_valid_payment_amount("5", tx) and rails.is_valid_payment_amount("100", tx)
    assert not rails.is_valid_payment_amount("4.99", tx) and not rails.is_valid_payment_amount("100.01", tx)


def test_initiate_refund_is_filed_once(bank_api):
    tx = withdrawal(amount_out="12", from_address="GBUSER")
    refund = rails.initiate_refund(tx)
    assert refund.status == "requested" and refund.amount == Decimal("12")
    assert rails.initiate_refund(tx) == refund
    refunds = bank_api.ok("GET", "/refunds", params={"reference": rails.get_reference_id(tx)})["refunds"]
    assert len(refunds) == 1 and refunds[0]["beneficiary"] == "GBUSER"


def test_unreachable_bank_is_a_bank_error(monkeypatch):
    monkeypatch.setenv("SANDBOX_BANK_URL", "http://127.0.0.1:9")
    with pytest.raises(rails.BankError, match="unreachable"):
        rails.has_received_payment("ABC")
