"""SEP-12 over HTTP with real SEP-10 tokens and an in-memory CustomerIntegration (SEP digest §5, §14 checks 26-35)."""

import time
import uuid

import jwt
import pytest
from django.core.exceptions import ObjectDoesNotExist
from stellar_sdk import Keypair, MuxedAccount

from polaris.integrations import CustomerIntegration, register_integrations, reset_integrations
from polaris.models import Transaction

pytestmark = pytest.mark.django_db
REQUIRED = {
    "first_name": {"type": "string", "description": "Given name"},
    "last_name": {"type": "string", "description": "Family name"},
    "photo_id_front": {"type": "binary", "description": "Front of your ID", "optional": True},
}


class MemoryCustomers(CustomerIntegration):
    """Customers keyed by (account, memo); ACCEPTED once first and last names are known."""

    def __init__(self):
        self.customers, self.calls = {}, []

    def _find(self, params):
        if params.get("id"):
            for key, customer in self.customers.items():
                if customer["id"] == params["id"]:
                    if key[0] != params["account"]:
                        raise ObjectDoesNotExist("no such customer")
                    return key, customer
            raise ObjectDoesNotExist("no such customer")
        key = (params["account"], params.get("memo"))
        return key, self.customers.get(key)

    def get(self, token, request, params, *args, **kwargs):
        self.calls.append(("get", params))
        if params.get("type") not in (None, "sep6", "sep31-sender"):
            raise ValueError(f"unknown type {params['type']}")
        _, customer = self._find(params)
        if customer is None:
            return {"status": "NEEDS_INFO", "fields": REQUIRED}
        if customer["data"].get("first_name") == "Mallory":
            return {"id": customer["id"], "status": "REJECTED", "message": "sanctioned"}
        missing = {k: v for k, v in REQUIRED.items() if k not in customer["data"] and not v.get("optional")}
        if missing:
            return {"id": customer["id"], "status": "NEEDS_INFO", "fields": missing}
        provided = {k: {**REQUIRED[k], "status": "ACCEPTED"} for k in customer["data"] if k in REQUIRED}
        return {"id": customer["id"], "status": "ACCEPTED", "provided_fields": provided}

    def put(self, token, request, params, *args, **kwargs):
        self.calls.append(("put", params))
        key, customer = self._find(params)
        if customer is None:
            customer = self.customers[key] = {"id": str(uuid.uuid4()), "data": {}}
        if params.get("birth_date") == "yesterday":
            raise ValueError("birth_date must be a date")
        customer["data"].update({k: v for k, v in params.items() if k in REQUIRED})
        return customer["id"]

    def delete(self, token, request, account, memo, memo_type, *args, **kwargs):
        if self.customers.pop((account, memo), None) is None:
            raise ObjectDoesNotExist("no customer for this account")

    def callback(self, token, request, params, *args, **kwargs):
        self.calls.append(("callback", params))

    def put_verification(self, token, request, account, params, *args, **kwargs):
        if params.get("mobile_number_verification") != "2735021":
            raise ValueError("wrong code")
        return self.get(token, request, params)


@pytest.fixture
def customers():
    integration = MemoryCustomers()
    register_integrations(customer=integration)
    yield integration
    reset_integrations()


def put(client, wallet, data, content_type="application/json"):
    if content_type == "multipart":
        return client.generic("PUT", "/kyc/customer", *_multipart(data), **wallet.auth)
    return client.put("/kyc/customer", data, content_type=content_type, **wallet.auth)


def _multipart(data):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return encode_multipart(BOUNDARY, data), MULTIPART_CONTENT


@pytest.mark.parametrize("method,path", [("get", "/kyc/customer"), ("put", "/kyc/customer"),
                                         ("delete", "/kyc/customer/GABC"), ("put", "/kyc/customer/callback"),
                                         ("put", "/kyc/customer/verification")])
def test_auth_failures_are_401_with_error(client, wallet, method, path):
    expired = jwt.encode({**jwt.decode(wallet.token, options={"verify_signature": False}), "exp": int(time.time()) - 1},
                         "polaris-tests-jwt-key", algorithm="HS256")
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer x.y.z"}, {"HTTP_AUTHORIZATION": f"Bearer {expired}"}):
        response = getattr(client, method)(path, **headers)
        assert response.status_code == 401 and "error" in response.json()
        assert response["Access-Control-Allow-Origin"] == "*"


def test_new_customer_needs_info_without_id(client, wallet, customers):
    response = client.get("/kyc/customer", {"type": "sep31-sender"}, **wallet.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "NEEDS_INFO" and "id" not in body and set(body["fields"]) == set(REQUIRED)
    assert client.get("/kyc/customer", {"type": "bogus"}, **wallet.auth).status_code == 400


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "multipart"])
def test_put_then_get_accepted(client, wallet, customers, content_type):
    data = {"first_name": "Ada", "last_name": "Lovelace", "not_a_sep9_field": "dropped"}
    if content_type == "application/x-www-form-urlencoded":
        from urllib.parse import urlencode

        data = urlencode(data)
    response = put(client, wallet, data, content_type)
    assert response.status_code == 202, response.content
    customer_id = response.json()["id"]
    assert response.json() == {"id": customer_id}
    stored = customers.calls[-1][1]
    assert "not_a_sep9_field" not in stored and stored["account"] == wallet.account
    assert put(client, wallet, {"first_name": "Ada"}).json()["id"] == customer_id  # idempotent
    by_id = client.get("/kyc/customer", {"id": customer_id}, **wallet.auth).json()
    by_token = client.get("/kyc/customer", **wallet.auth).json()
    assert by_id["status"] == by_token["status"] == "ACCEPTED" and by_id["id"] == customer_id
    assert by_id["provided_fields"]["first_name"]["status"] == "ACCEPTED"


def test_multipart_file_field_reaches_the_integration(client, wallet, customers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("id.png", b"\x89PNG fake", content_type="image/png")
    response = put(client, wallet, {"last_name": "L", "photo_id_front": photo}, "multipart")
    assert response.status_code == 202
    uploaded = customers.calls[-1][1]["photo_id_front"]
    assert uploaded.read() == b"\x89PNG fake" and uploaded.name == "id.png"


def test_unknown_or_foreign_ids_are_404(client, wallet, make_wallet, customers):
    customer_id = put(client, wallet, {"first_name": "A"}).json()["id"]
    stranger = make_wallet()
    assert client.get("/kyc/customer", {"id": customer_id}, **stranger.auth).status_code == 404
    assert put(client, stranger, {"id": customer_id, "first_name": "B"}).status_code == 404
    response = client.get("/kyc/customer", {"id": "nope"}, **wallet.auth)
    assert response.status_code == 404 and "error" in response.json()


def test_memo_rules_and_memos_separate_customers(client, make_wallet, customers):
    keypair = Keypair.random()
    plain = make_wallet(keypair)
    one = put(client, plain, {"memo": "1", "memo_type": "id", "first_name": "A"}).json()["id"]
    two = put(client, plain, {"memo": "2", "memo_type": "id", "first_name": "B"}).json()["id"]
    assert one != two

    memo1 = make_wallet(keypair, memo=1)
    assert put(client, memo1, {"memo": "2", "first_name": "A"}).status_code == 403
    assert put(client, memo1, {"first_name": "A"}).json()["id"] == one  # the token's memo is the customer's
    assert client.get("/kyc/customer", {"account": Keypair.random().public_key}, **memo1.auth).status_code == 403
    assert client.get("/kyc/customer", {"account": keypair.public_key, "memo": "1"}, **memo1.auth).status_code == 200

    muxed = make_wallet(keypair, muxed_id=9)
    assert put(client, muxed, {"memo": "8", "first_name": "M"}).status_code == 403
    assert put(client, muxed, {"memo": "9", "first_name": "M"}).status_code == 202
    assert customers.calls[-1][1]["muxed_account"] == MuxedAccount(keypair.public_key, 9).account_muxed
    assert put(client, plain, {"memo": "x", "memo_type": "id"}).status_code == 400


def test_transaction_id_needs_type_and_ownership(client, usd, wallet, make_wallet, customers):
    tx = Transaction.objects.create(kind="deposit", protocol="sep6", status="pending_customer_info_update", asset=usd,
                                    stellar_account=wallet.account)
    assert client.get("/kyc/customer", {"transaction_id": tx.id}, **wallet.auth).status_code == 400
    response = client.get("/kyc/customer", {"transaction_id": tx.id, "type": "sep6"}, **wallet.auth)
    assert response.status_code == 200 and customers.calls[-1][1]["transaction_id"] == str(tx.id)
    assert client.get("/kyc/customer", {"transaction_id": tx.id, "type": "sep6"}, **make_wallet().auth).status_code == 404
    assert client.get("/kyc/customer", {"transaction_id": "nope", "type": "sep6"}, **wallet.auth).status_code == 404


def test_rejected_has_message_and_bad_data_is_400(client, wallet, customers):
    put(client, wallet, {"first_name": "Mallory"})
    body = client.get("/kyc/customer", **wallet.auth).json()
    assert body["status"] == "REJECTED" and body["message"]
    response = put(client, wallet, {"birth_date": "yesterday"})
    assert response.status_code == 400 and "birth_date" in response.json()["error"]


def test_delete(client, wallet, make_wallet, customers):
    put(client, wallet, {"first_name": "A"})
    assert client.delete(f"/kyc/customer/{make_wallet().account}", **wallet.auth).status_code == 403
    assert client.delete(f"/kyc/customer/{wallet.account}", **wallet.auth).status_code == 200
    assert client.get("/kyc/customer", **wallet.auth).json()["status"] == "NEEDS_INFO"
    assert client.delete(f"/kyc/customer/{wallet.account}", **wallet.auth).status_code == 404


def test_callback(client, wallet, customers):
    response = client.put("/kyc/customer/callback", {"url": "https://wallet.example/kyc"}, content_type="application/json", **wallet.auth)
    assert response.status_code == 200
    assert customers.calls[-1] == ("callback", {**customers.calls[-1][1], "url": "https://wallet.example/kyc"})
    assert client.put("/kyc/customer/callback", {}, content_type="application/json", **wallet.auth).status_code == 400
    bad = client.put("/kyc/customer/callback", {"url": "file:///etc/passwd"}, content_type="application/json", **wallet.auth)
    assert bad.status_code == 400


def test_verification(client, wallet, customers):
    customer_id = put(client, wallet, {"first_name": "A", "last_name": "B"}).json()["id"]
    body = {"id": customer_id, "mobile_number_verification": "2735021"}
    response = client.put("/kyc/customer/verification", body, content_type="application/json", **wallet.auth)
    assert response.status_code == 200 and response.json()["status"] == "ACCEPTED"
    wrong = client.put("/kyc/customer/verification", {**body, "mobile_number_verification": "1"}, content_type="application/json", **wallet.auth)
    assert wrong.status_code == 400
    assert client.put("/kyc/customer/verification", {"id": customer_id}, content_type="application/json", **wallet.auth).status_code == 400


def test_default_integration_is_501_and_invalid_answers_are_500(client, wallet):
    response = client.get("/kyc/customer", **wallet.auth)
    assert response.status_code == 501 and "error" in response.json()

    class Broken(CustomerIntegration):
        def get(self, token, request, params, *args, **kwargs):
            return {"status": "NEEDS_INFO"}

    register_integrations(customer=Broken())
    try:
        response = client.get("/kyc/customer", **wallet.auth)
    finally:
        reset_integrations()
    assert response.status_code == 500 and "fields" in response.json()["error"]
