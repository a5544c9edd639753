"""SEP-24 JSON endpoints over HTTP with real SEP-10 tokens (SEP digest §7, §14 checks 25, 50-58)."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
from django.utils import timezone
from stellar_sdk import Keypair, MuxedAccount

from polaris.integrations import DepositIntegration, register_integrations, reset_integrations
from polaris.models import Asset, Transaction

pytestmark = pytest.mark.django_db
DEPOSIT = "/sep24/transactions/deposit/interactive"
WITHDRAW = "/sep24/transactions/withdraw/interactive"


def start(client, wallet, path=DEPOSIT, body=None, content_type="application/json"):
    body = {"asset_code": "USD", **(body or {})}
    if content_type == "multipart":
        return client.post(path, body, **wallet.auth)
    if content_type == "form":
        return client.generic("POST", path, urlencode(body), content_type="application/x-www-form-urlencoded", **wallet.auth)
    return client.post(path, body, content_type=content_type, **wallet.auth)


def get_tx(client, wallet, **params):
    return client.get("/sep24/transaction", params, **wallet.auth)


def test_info_lists_assets_with_only_allowed_keys(client, usd):
    response = client.get("/sep24/info")
    assert response.status_code == 200
    body = response.json()
    assert {"deposit", "withdraw", "fee"} <= set(body)
    assert body["deposit"]["USD"] == {"enabled": True, "min_amount": 10.0, "max_amount": 10000.0, "fee_fixed": 1.0, "fee_percent": 1.0}
    assert body["withdraw"]["USD"] == {"enabled": True, "min_amount": 5.0, "max_amount": 5000.0, "fee_fixed": 2.0}
    assert response["Access-Control-Allow-Origin"] == "*"


def test_fee(client, usd):
    response = client.get("/sep24/fee", {"operation": "deposit", "asset_code": "USD", "amount": "100"})
    assert response.json() == {"fee": 2.0}
    assert client.get("/sep24/fee", {"operation": "swap", "asset_code": "USD", "amount": "1"}).status_code == 400
    assert client.get("/sep24/fee", {"operation": "deposit", "asset_code": "EUR", "amount": "1"}).status_code == 400
    assert client.get("/sep24/fee", {"operation": "deposit", "asset_code": "USD"}).status_code == 400


def forged_token(wallet, **changes):
    claims = jwt.decode(wallet.token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, changes.pop("key", "polaris-tests-jwt-key"), algorithm="HS256")


@pytest.mark.parametrize("method,path", [("post", DEPOSIT), ("post", WITHDRAW), ("get", "/sep24/transactions"), ("get", "/sep24/transaction")])
def test_auth_failures_are_403_authentication_required(client, usd, wallet, method, path):
    expired = forged_token(wallet, exp=int(time.time()) - 10)
    bad_signature = jwt.encode(jwt.decode(wallet.token, options={"verify_signature": False}), "other-key", algorithm="HS256")
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token abc"}, {"HTTP_AUTHORIZATION": "Bearer not.a.jwt"},
                    {"HTTP_AUTHORIZATION": f"Bearer {bad_signature}"}, {"HTTP_AUTHORIZATION": f"Bearer {expired}"}):
        response = getattr(client, method)(path, {"asset_code": "USD"}, **headers)
        assert response.status_code == 403, (headers, response.content)
        assert response.json() == {"type": "authentication_required"}
        assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("content_type", ["application/json", "form", "multipart"])
def test_deposit_accepts_every_body_type_and_reads_back_incomplete(client, usd, wallet, content_type):
    response = start(client, wallet, body={"amount": "100", "on_change_callback": "https://wallet.example/cb"}, content_type=content_type)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"type", "url", "id"}
    assert body["type"] == "interactive_customer_info_needed"
    url = urlparse(body["url"])
    assert url.scheme in ("http", "https") and parse_qs(url.query)["transaction_id"] == [body["id"]]
    assert "token" in parse_qs(url.query)

    tx = get_tx(client, wallet, id=body["id"]).json()["transaction"]
    assert tx["status"] == "incomplete" and tx["kind"] == "deposit"
    assert tx["to"] == wallet.account
    assert tx["more_info_url"].endswith(f"/sep24/transaction/more_info?id={body['id']}")
    assert tx["started_at"].endswith("Z")
    assert tx["amount_in"] is None and "amount_out" in tx and "stellar_transaction_id" in tx
    stored = Transaction.objects.get(id=body["id"])
    assert stored.on_change_callback == "https://wallet.example/cb" and stored.amount_expected == 100
    assert stored.stellar_account == wallet.account and stored.protocol == "sep24"


def test_deposit_to_another_account_with_memo_and_claimable_balances(client, usd, wallet):
    other = Keypair.random().public_key
    response = start(client, wallet, body={"account": other, "memo": "42", "claimable_balance_supported": True})
    tx = get_tx(client, wallet, id=response.json()["id"]).json()["transaction"]
    assert tx["to"] == other and tx["deposit_memo"] == "42" and tx["deposit_memo_type"] == "id"
    assert Transaction.objects.get(id=tx["id"]).claimable_balance_supported is True


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"asset_code": ""}, "asset_code"),
        ({"asset_code": "FAKE"}, "unsupported"),
        ({"asset_code": "native"}, "native"),
        ({"asset_issuer": Keypair.random().public_key}, "issued by"),
        ({"account": "not a valid account"}, "account"),
        ({"amount": "5"}, "minimum"),
        ({"amount": "20000"}, "maximum"),
        ({"amount": "-1"}, "positive"),
        ({"amount": "abc"}, "decimal"),
        ({"memo": "x" * 40, "memo_type": "text"}, "28 bytes"),
        ({"memo": "abc", "memo_type": "hash"}, "hash"),
        ({"memo": "1", "memo_type": "weird"}, "memo_type"),
        ({"claimable_balance_supported": "maybe"}, "true or false"),
        ({"on_change_callback": "ftp://x"}, "on_change_callback"),
        ({"quote_id": "abc"}, "SEP-38"),
    ],
)
def test_deposit_rejects_bad_input_with_400(client, usd, wallet, body, fragment):
    response = start(client, wallet, body=body)
    assert response.status_code == 400, response.content
    assert fragment.lower() in response.json()["error"].lower()


def test_deposit_rejects_memo_with_muxed_destination_and_non_object_json(client, usd, wallet):
    muxed = MuxedAccount(wallet.account, 5).account_muxed
    assert start(client, wallet, body={"account": muxed, "memo": "1"}).status_code == 400
    response = client.post(DEPOSIT, "[1]", content_type="application/json", **wallet.auth)
    assert response.status_code == 400 and "object" in response.json()["error"]
    response = client.post(DEPOSIT, "{", content_type="application/json", **wallet.auth)
    assert response.status_code == 400


def test_disabled_operation_and_method_not_allowed(client, usd, wallet):
    Asset.objects.filter(pk=usd.pk).update(deposit_enabled=False)
    assert "not enabled" in start(client, wallet).json()["error"]
    response = client.get(DEPOSIT, **wallet.auth)
    assert response.status_code == 405 and "error" in response.json()


def test_sep9_fields_are_refused_by_default_and_passed_to_the_integration(client, usd, wallet):
    response = start(client, wallet, body={"email_address": "a@b.example"})
    assert response.status_code == 400 and "email_address" in response.json()["error"]

    saved = {}

    class Saving(DepositIntegration):
        def save_sep9_fields(self, token, request, stellar_account, fields, language_code, **kwargs):
            saved.update(fields, account=stellar_account, lang=language_code)

    register_integrations(deposit=Saving())
    try:
        response = start(client, wallet, body={"email_address": "a@b.example", "lang": "en", "not_sep9": "x"})
    finally:
        reset_integrations()
    assert response.status_code == 200
    assert saved == {"email_address": "a@b.example", "account": wallet.account, "lang": "en"}


def test_withdraw_starts_incomplete_with_source(client, usd, wallet):
    response = start(client, wallet, WITHDRAW, {"amount": "50", "refund_memo": "reason", "refund_memo_type": "text"})
    assert response.status_code == 200
    stored = Transaction.objects.get(id=response.json()["id"])
    assert (stored.refund_memo, stored.refund_memo_type) == ("reason", "text")
    tx = get_tx(client, wallet, id=response.json()["id"]).json()["transaction"]
    assert tx["status"] == "incomplete" and tx["kind"] == "withdrawal" and tx["from"] == wallet.account
    assert tx["withdraw_anchor_account"] is None and tx["withdraw_memo"] is None


@pytest.mark.parametrize("body", [{"refund_memo": "1"}, {"refund_memo_type": "id"}, {"refund_memo": "x", "refund_memo_type": "id"}, {"asset_code": "FAKE"},
                                  {"asset_code": "US\x00D"}])
def test_withdraw_rejects_bad_input(client, usd, wallet, body):
    assert start(client, wallet, WITHDRAW, body).status_code == 400


def make_tx(asset, wallet_like, **fields):
    defaults = {"kind": "deposit", "protocol": "sep24", "status": "incomplete", "asset": asset,
                "stellar_account": wallet_like.account, "account_memo": wallet_like.memo, "to_address": wallet_like.account}
    return Transaction.objects.create(**{**defaults, **fields})


def test_transactions_filters_sorts_and_pages(client, usd, wallet):
    now = timezone.now()
    oldest = make_tx(usd, wallet, started_at=now - timedelta(hours=3))
    middle = make_tx(usd, wallet, kind="withdrawal", started_at=now - timedelta(hours=2))
    newest = make_tx(usd, wallet, started_at=now - timedelta(hours=1))
    make_tx(usd, wallet, protocol="sep6")  # another protocol's transaction is not listed here

    def ids(**params):
        response = client.get("/sep24/transactions", {"asset_code": "USD", **params}, **wallet.auth)
        assert response.status_code == 200, response.content
        return [tx["id"] for tx in response.json()["transactions"]]

    assert ids() == [str(newest.id), str(middle.id), str(oldest.id)]
    assert ids(limit=1) == [str(newest.id)]
    assert ids(kind="withdrawal") == [str(middle.id)]
    assert ids(kind=["deposit", "withdrawal"]) == ids()
    started = client.get("/sep24/transaction", {"id": middle.id}, **wallet.auth).json()["transaction"]["started_at"]
    assert ids(no_older_than=started) == [str(newest.id), str(middle.id)]
    assert ids(paging_id=str(middle.id)) == [str(oldest.id)]

    for params in ({"asset_code": "BADCODE"}, {}, {"asset_code": "USD", "kind": "send"},
                   {"asset_code": "USD", "limit": "0"}, {"asset_code": "USD", "no_older_than": "yesterday"}):
        response = client.get("/sep24/transactions", params, **wallet.auth)
        assert response.status_code == 400 and "error" in response.json(), params
    assert client.get("/sep24/transactions", {"asset_code": "USD", "paging_id": "nope"}, **wallet.auth).status_code == 404


def test_new_account_has_an_empty_list(client, usd, wallet):
    response = client.get("/sep24/transactions", {"asset_code": "USD"}, **wallet.auth)
    assert response.json() == {"transactions": []}


def test_transaction_lookups(client, usd, wallet):
    tx = make_tx(usd, wallet, stellar_transaction_id="ab" * 32, external_transaction_id="bank-1")
    for params in ({"id": tx.id}, {"stellar_transaction_id": "ab" * 32}, {"external_transaction_id": "bank-1"}):
        response = get_tx(client, wallet, **params)
        assert response.status_code == 200 and response.json()["transaction"]["id"] == str(tx.id)
    for params in ({"id": "00000000-0000-0000-0000-000000000000"}, {"id": "garbage"},
                   {"stellar_transaction_id": "cd" * 32}, {"external_transaction_id": "bank-2"}):
        response = get_tx(client, wallet, **params)
        assert response.status_code == 404 and "error" in response.json()
        assert response["Access-Control-Allow-Origin"] == "*"
    assert get_tx(client, wallet).status_code == 400


def test_one_account_never_sees_another_accounts_transactions(client, usd, make_wallet):
    keypair = Keypair.random()
    plain, memo1, memo2 = make_wallet(keypair), make_wallet(keypair, memo=1), make_wallet(keypair, memo=2)
    muxed = make_wallet(keypair, muxed_id=7)
    stranger = make_wallet()
    created = {}
    for name, owner in (("plain", plain), ("memo1", memo1), ("memo2", memo2), ("muxed", muxed), ("stranger", stranger)):
        response = start(client, owner)
        assert response.status_code == 200
        created[name] = response.json()["id"]
    muxed_tx = Transaction.objects.get(id=created["muxed"])
    assert muxed_tx.muxed_account == MuxedAccount(keypair.public_key, 7).account_muxed
    assert get_tx(client, muxed, id=created["muxed"]).json()["transaction"]["to"] == muxed_tx.muxed_account

    for name, owner in (("plain", plain), ("memo1", memo1), ("memo2", memo2), ("muxed", muxed), ("stranger", stranger)):
        listed = [t["id"] for t in client.get("/sep24/transactions", {"asset_code": "USD"}, **owner.auth).json()["transactions"]]
        assert listed == [created[name]], name
        for other, tx_id in created.items():
            status = get_tx(client, owner, id=tx_id).status_code
            assert status == (200 if other == name else 404), (name, other)
