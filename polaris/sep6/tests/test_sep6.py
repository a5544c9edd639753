"""SEP-6 over HTTP with real SEP-10 tokens (SEP digest §6, §14 checks 25, 37-49)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.exceptions import APIException
from stellar_sdk import Keypair, MuxedAccount

from polaris.integrations import DepositIntegration, WithdrawalIntegration, register_integrations, reset_integrations
from polaris.models import Quote, Transaction

pytestmark = pytest.mark.django_db


class BankDeposit(DepositIntegration):
    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        if params.get("type") == "needs_kyc":
            return {"type": "non_interactive_customer_info_needed", "fields": ["first_name"]}
        if params.get("type") == "pending_kyc":
            return {"type": "customer_info_status", "status": "pending"}
        if params.get("type") == "sep12":
            transaction.status = Transaction.STATUS.pending_customer_info_update
            transaction.required_customer_info_updates = ["first_name"]
            return {"how": "Finish KYC first"}
        if params.get("type") == "bad":
            raise ValueError("that type is not supported")
        if params.get("type") == "teapot":
            raise APIException("custom")
        transaction.instructions = {
            "organization.bank_account_number": {"value": "ANCHOR-1", "description": "Bank account"},
            "external_transfer_memo": {"value": str(transaction.id)[:12].upper(), "description": "Reference"},
        }
        return {"eta": 3600, "extra_info": {"message": "Use the reference"}}

    def patch_transaction(self, token, request, params, transaction, *args, **kwargs):
        if params.get("dest") == "bad":
            raise ValueError("dest is not a valid bank account")
        transaction.external_extra = params["dest"]


class BankWithdrawal(WithdrawalIntegration):
    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        return {"extra_info": {"message": "Pays out in 1 day"}}


@pytest.fixture(autouse=True)
def integrations():
    register_integrations(deposit=BankDeposit(), withdrawal=BankWithdrawal())
    yield
    reset_integrations()


def deposit(client, wallet, **params):
    return client.get("/sep6/deposit", {"asset_code": "USD", "account": wallet.account, **params}, **wallet.auth)


def withdraw(client, wallet, **params):
    return client.get("/sep6/withdraw", {"asset_code": "USD", **params}, **wallet.auth)


def get_tx(client, wallet, tx_id):
    return client.get("/sep6/transaction", {"id": tx_id}, **wallet.auth)


def test_info(client, usd):
    body = client.get("/sep6/info").json()
    assert {"deposit", "withdraw", "fee", "transaction", "transactions", "features"} <= set(body)
    assert body["deposit-exchange"] == {}  # USD is not offered for SEP-38 exchange
    allowed = {"enabled", "authentication_required", "min_amount", "max_amount", "fee_fixed", "fee_percent"}
    assert body["deposit"]["USD"]["enabled"] is True and set(body["deposit"]["USD"]) <= allowed
    assert set(body["withdraw"]["USD"]) <= allowed
    assert body["transactions"] == {"enabled": True, "authentication_required": True}


def test_fee(client, usd):
    assert client.get("/sep6/fee", {"operation": "withdraw", "asset_code": "USD", "amount": "10"}).json() == {"fee": 2.0}
    assert client.get("/sep6/fee", {"operation": "withdraw", "asset_code": "X", "amount": "10"}).status_code == 400


@pytest.mark.parametrize("path", ["/sep6/deposit", "/sep6/withdraw", "/sep6/transactions", "/sep6/transaction",
                                  "/sep6/deposit-exchange", "/sep6/withdraw-exchange"])
def test_auth_required(client, usd, path):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}):
        response = client.get(path, {"asset_code": "USD"}, **headers)
        assert response.status_code == 403 and response.json() == {"type": "authentication_required"}


def test_deposit_success_with_instructions_and_how(client, usd, wallet):
    response = deposit(client, wallet, amount="100", memo="7", memo_type="id", on_change_callback="https://w.example/cb",
                       funding_method="WIRE")
    assert response.status_code == 200, response.content
    body = response.json()
    assert Transaction.objects.get(id=body["id"]).funding_method == "WIRE"
    assert {"id", "how", "instructions", "eta", "extra_info"} <= set(body)
    assert body["instructions"]["organization.bank_account_number"]["value"] == "ANCHOR-1"
    assert "ANCHOR-1" in body["how"] and body["min_amount"] == 10.0
    tx = get_tx(client, wallet, body["id"]).json()["transaction"]
    assert tx["kind"] == "deposit" and tx["status"] == "pending_user_transfer_start"
    assert tx["to"] == wallet.account and tx["deposit_memo"] == "7" and tx["deposit_memo_type"] == "id"
    assert tx["instructions"] == body["instructions"]
    assert (tx["amount_in"], tx["amount_fee"], tx["amount_out"]) == ("100.00", "2.00", "98.00")
    assert tx["more_info_url"] is None and tx["started_at"].endswith("Z")
    assert Transaction.objects.get(id=body["id"]).on_change_callback == "https://w.example/cb"


@pytest.mark.parametrize(
    "params,status,fragment",
    [
        ({"asset_code": ""}, 400, "asset_code"),
        ({"asset_code": "FAKE"}, 400, "unsupported"),
        ({"account": ""}, 400, "account"),
        ({"account": "notakey"}, 400, "account"),
        ({"amount": "1"}, 400, "minimum"),
        ({"memo": "abc", "memo_type": "id"}, 400, "64-bit"),
        ({"on_change_callback": "javascript:alert(1)"}, 400, "on_change_callback"),
        ({"type": "bad"}, 400, "not supported"),
        ({"type": "teapot"}, 500, "custom"),
    ],
)
def test_deposit_errors(client, usd, wallet, params, status, fragment):
    response = deposit(client, wallet, **params)
    assert response.status_code == status, response.content
    assert fragment.lower() in response.json()["error"].lower()


def test_deposit_kyc_answers(client, usd, wallet):
    response = deposit(client, wallet, type="needs_kyc")
    assert response.status_code == 403
    assert response.json() == {"type": "non_interactive_customer_info_needed", "fields": ["first_name"]}
    response = deposit(client, wallet, type="pending_kyc")
    assert response.status_code == 403 and response.json() == {"type": "customer_info_status", "status": "pending"}
    assert not Transaction.objects.exists()
    response = deposit(client, wallet, type="sep12")
    assert response.status_code == 200 and response.json()["how"] == "Finish KYC first"
    tx = get_tx(client, wallet, response.json()["id"]).json()["transaction"]
    assert tx["status"] == "pending_customer_info_update"
    assert tx["required_customer_info_updates"] == ["first_name"]


def test_default_integration_answers_501(client, usd, wallet):
    reset_integrations()
    response = deposit(client, wallet)
    assert response.status_code == 501 and "error" in response.json()


def test_withdraw_success_has_only_allowed_keys(client, usd, wallet):
    response = withdraw(client, wallet, amount="50", refund_memo="5", refund_memo_type="id", funding_method="SEPA")
    assert response.status_code == 200, response.content
    body = response.json()
    stored = Transaction.objects.get(id=body["id"])
    assert (stored.refund_memo, stored.refund_memo_type, stored.funding_method) == ("5", "id", "SEPA")
    assert set(body) <= {"id", "account_id", "memo_type", "memo", "eta", "min_amount", "max_amount", "fee_fixed", "fee_percent", "extra_info"}
    assert body["account_id"] == usd.distribution_account and body["memo_type"] == "id" and int(body["memo"]) > 0
    tx = get_tx(client, wallet, body["id"]).json()["transaction"]
    assert tx["status"] == "pending_user_transfer_start" and tx["from"] == wallet.account
    assert tx["withdraw_anchor_account"] == usd.distribution_account and tx["withdraw_memo"] == body["memo"]
    assert tx["amount_in"] == "50.00" and tx["amount_out"] == "48.00"


@pytest.mark.parametrize("params", [{"refund_memo": "1"}, {"refund_memo_type": "text"},
                                    {"refund_memo": "x", "refund_memo_type": "id"}, {"asset_code": "NOPE"},
                                    {"account": "GBAD"}, {"amount": "9999"}])
def test_withdraw_errors(client, usd, wallet, params):
    response = withdraw(client, wallet, **params)
    assert response.status_code == 400 and "error" in response.json()


def test_exchange_needs_sep38(client, usd, wallet, settings):
    settings.POLARIS_ACTIVE_SEPS = ["sep-1", "sep-6", "sep-10", "sep-12", "sep-24"]
    response = client.get("/sep6/deposit-exchange", {"destination_asset": "USD"}, **wallet.auth)
    assert response.status_code == 400 and "SEP-38" in response.json()["error"]
    assert "SEP-38" in client.get("/sep6/withdraw-exchange", **wallet.auth).json()["error"]


def test_deposit_exchange_with_quote(client, usd, wallet):
    usd.sep38_enabled = True
    usd.save()
    quote = Quote.objects.create(
        type="firm", stellar_account=wallet.account, sell_asset="iso4217:BRL", buy_asset=usd.asset_identification_format,
        sell_amount=Decimal("500"), buy_amount=Decimal("95"), price=Decimal("5"), total_price=Decimal("5.26"),
        fee={"total": "5.00", "asset": "iso4217:BRL"}, expires_at=timezone.now() + timedelta(minutes=5),
    )
    base = {"destination_asset": "USD", "source_asset": "iso4217:BRL", "account": wallet.account, "quote_id": str(quote.id)}
    assert "deposit-exchange" in client.get("/sep6/info").json()
    for bad in ({"amount": "400"}, {"amount": "500", "source_asset": "iso4217:ARS"}, {"amount": "500", "quote_id": "nope"}):
        response = client.get("/sep6/deposit-exchange", {**base, **bad}, **wallet.auth)
        assert response.status_code == 400, (bad, response.content)
    other = Keypair.random().public_key
    Quote.objects.filter(pk=quote.pk).update(stellar_account=other)
    assert client.get("/sep6/deposit-exchange", {**base, "amount": "500"}, **wallet.auth).status_code == 400
    Quote.objects.filter(pk=quote.pk).update(stellar_account=wallet.account, expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in client.get("/sep6/deposit-exchange", {**base, "amount": "500"}, **wallet.auth).json()["error"]
    Quote.objects.filter(pk=quote.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    response = client.get("/sep6/deposit-exchange", {**base, "amount": "500"}, **wallet.auth)
    assert response.status_code == 200, response.content
    tx = get_tx(client, wallet, response.json()["id"]).json()["transaction"]
    assert tx["kind"] == "deposit-exchange" and tx["quote_id"] == str(quote.id)
    assert tx["amount_in"] == "500.00" and tx["amount_out"] == "95.00"
    assert tx["amount_in_asset"] == "iso4217:BRL" and tx["amount_out_asset"] == usd.asset_identification_format
    assert tx["fee_details"] == {"total": "5.00", "asset": "iso4217:BRL"}


def make_tx(asset, owner, **fields):
    defaults = {"kind": "deposit", "protocol": "sep6", "status": "pending_user_transfer_start", "asset": asset,
                "stellar_account": owner.account, "account_memo": owner.memo, "to_address": owner.account}
    return Transaction.objects.create(**{**defaults, **fields})


def test_transactions_history(client, usd, wallet):
    now = timezone.now()
    first = make_tx(usd, wallet, started_at=now - timedelta(minutes=3))
    second = make_tx(usd, wallet, kind="withdrawal", started_at=now - timedelta(minutes=2))
    third = make_tx(usd, wallet, kind="deposit-exchange", started_at=now - timedelta(minutes=1))

    def ids(**params):
        response = client.get("/sep6/transactions", {"asset_code": "USD", **params}, **wallet.auth)
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["transactions"]]

    assert ids() == [str(third.id), str(second.id), str(first.id)]
    assert ids(account=wallet.account) == ids()
    assert ids(account=MuxedAccount(wallet.account, 3).account_muxed) == ids()
    assert ids(kind=["deposit", "deposit-exchange"]) == [str(third.id), str(first.id)]
    assert ids(limit=2, paging_id=str(third.id)) == [str(second.id), str(first.id)]
    response = client.get("/sep6/transactions", {"asset_code": "USD", "account": Keypair.random().public_key}, **wallet.auth)
    assert response.status_code == 403 and "error" in response.json()
    assert client.get("/sep6/transactions", {"asset_code": "BAD"}, **wallet.auth).status_code == 400


def test_memo_scoping(client, usd, make_wallet):
    keypair = Keypair.random()
    one, two = make_wallet(keypair, memo=1), make_wallet(keypair, memo=2)
    tx_one = deposit(client, one).json()["id"]
    tx_two = deposit(client, two).json()["id"]
    assert get_tx(client, one, tx_one).status_code == 200 and get_tx(client, one, tx_two).status_code == 404
    assert get_tx(client, two, tx_one).status_code == 404
    listed = client.get("/sep6/transactions", {"asset_code": "USD"}, **two.auth).json()["transactions"]
    assert [t["id"] for t in listed] == [tx_two]


def test_transaction_lookup_errors(client, usd, wallet):
    assert client.get("/sep6/transaction", **wallet.auth).status_code == 400
    for params in ({"id": "00000000-0000-0000-0000-000000000000"}, {"stellar_transaction_id": "ff" * 32}, {"external_transaction_id": "x"}):
        assert client.get("/sep6/transaction", params, **wallet.auth).status_code == 404


def patch(client, wallet, tx_id, body):
    return client.patch(f"/sep6/transactions/{tx_id}", body, content_type="application/json", **wallet.auth)


def test_patch_transaction(client, usd, wallet, make_wallet):
    tx = make_tx(usd, wallet, status="pending_anchor")
    assert patch(client, wallet, tx.id, {"transaction": {"dest": "1"}}).status_code == 400  # wrong status
    tx.status = "pending_transaction_info_update"
    tx.required_info_updates = {"dest": {"description": "your bank account"}}
    tx.required_info_message = "bank account refused"
    tx.save()
    assert patch(client, wallet, tx.id, {"transaction": {"other": "1"}}).status_code == 400
    assert patch(client, wallet, tx.id, {"dest": "1"}).status_code == 400
    assert patch(client, wallet, tx.id, {"transaction": {"dest": "bad"}}).status_code == 400
    assert patch(client, make_wallet(), tx.id, {"transaction": {"dest": "1"}}).status_code == 404
    assert patch(client, wallet, "00000000-0000-0000-0000-000000000000", {"transaction": {"dest": "1"}}).status_code == 404
    assert patch(client, wallet, "nope", {"transaction": {"dest": "1"}}).status_code == 404
    response = patch(client, wallet, tx.id, {"transaction": {"dest": "DE89"}})
    assert response.status_code == 200, response.content
    body = response.json()["transaction"]
    assert body["status"] == "pending_anchor" and body["required_info_updates"] is None
    tx.refresh_from_db()
    assert tx.external_extra == "DE89"
    assert client.get(f"/sep6/transactions/{tx.id}", **wallet.auth).status_code == 405


def test_more_info_page_when_enabled(client, usd, wallet, settings):
    settings.POLARIS_SEP6_USE_MORE_INFO_URL = True
    tx_id = deposit(client, wallet).json()["id"]
    url = get_tx(client, wallet, tx_id).json()["transaction"]["more_info_url"]
    assert url.endswith(f"/sep6/transaction/more_info?id={tx_id}")
    response = client.get(f"/sep6/transaction/more_info?id={tx_id}")
    assert response.status_code == 200 and "ANCHOR-1" in response.content.decode()
