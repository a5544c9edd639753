"""The bank's API over HTTP against a real process: accounts, transfers, payments, refunds, persistence."""

import time

import pytest
import requests

from .conftest import Api


def test_accounts_and_cash(api):
    assert api.ok("GET", "/") == {"bank": "sandbox", "anchor_account": "anchor"}
    anchor = api.ok("GET", "/accounts/anchor")
    assert (anchor["kind"], anchor["currency"], anchor["balance"], anchor["status"]) == ("anchor", "USD", "0.00", "open")

    alice = api.account(name="Alice")
    assert alice["kind"] == "customer" and alice["balance"] == "0.00"
    assert api.ok("POST", f"/accounts/{alice['id']}/cash", {"amount": "25.5"})["balance"] == "25.50"
    assert api.ok("POST", f"/accounts/{alice['id']}/cash", {"amount": "0.0000001"})["balance"] == "25.5000001"
    ids = [a["id"] for a in api.ok("GET", "/accounts")["accounts"]]
    assert ids == ["anchor", alice["id"]]
    assert api.ok("POST", f"/accounts/{alice['id']}/close")["status"] == "closed"
    assert api.call("POST", f"/accounts/{alice['id']}/cash", {"amount": "1"})[0] == 422
    assert api.call("POST", "/accounts/anchor/close")[0] == 422


def test_transfer_to_the_anchor_with_a_reference(api):
    alice = api.account(cash="100")
    bob = api.account(cash="5")
    transfer = api.ok("POST", "/transfers", {"from_account": alice["id"], "to_account": "anchor", "amount": "40.25",
                                             "currency": "USD", "reference": "ABC123DEF456"}, status=201)
    assert (transfer["amount"], transfer["reference"], transfer["status"]) == ("40.25", "ABC123DEF456", "completed")
    assert api.balance(alice["id"]) == "59.75"
    assert api.balance("anchor") == "40.25"
    assert api.ok("GET", f"/transfers/{transfer['id']}") == transfer

    # A customer-to-customer transfer with the same reference is not money at the anchor.
    api.ok("POST", "/transfers", {"from_account": bob["id"], "to_account": alice["id"], "amount": "1",
                                  "currency": "USD", "reference": "ABC123DEF456"}, status=201)
    # References match regardless of case and surrounding spaces, as a bank's reconciliation would.
    found = api.ok("GET", "/transfers", params={"to_account": "anchor", "reference": " abc123def456 "})["transfers"]
    assert found == [transfer]
    assert api.ok("GET", "/transfers", params={"to_account": "anchor", "reference": "OTHER"})["transfers"] == []
    assert len(api.ok("GET", "/transfers", params={"reference": "ABC123DEF456"})["transfers"]) == 2


def test_transfer_refusals_move_nothing(api):
    alice = api.account(cash="10")
    euro = api.account(currency="EUR", cash="10")
    refusals = [
        ({"to_account": "anchor", "amount": "10.01", "currency": "USD"}, "insufficient funds"),
        ({"to_account": "anchor", "amount": "1", "currency": "EUR"}, "holds USD"),
        ({"to_account": euro["id"], "amount": "1", "currency": "USD"}, "holds EUR"),
        ({"to_account": "acc_missing", "amount": "1", "currency": "USD"}, "does not exist"),
        ({"to_account": alice["id"], "amount": "1", "currency": "USD"}, "must differ"),
    ]
    for body, message in refusals:
        status, data = api.call("POST", "/transfers", {"from_account": alice["id"], **body})
        assert status == 422 and message in data["error"], (body, data)
    assert api.balance(alice["id"]) == "10.00"
    assert api.balance("anchor") == "0.00"
    assert api.ok("GET", "/transfers")["transfers"] == []


def _pay(api: Api, to_account: str, amount: str, key: str, memo: str = "payout", status: int = 201) -> dict:
    return api.ok("POST", "/payments", {"to_account": to_account, "amount": amount, "idempotency_key": key,
                                        "memo": memo}, status=status)


def test_payment_initiated_then_delivered(api):
    carol = api.account()
    payment = _pay(api, carol["id"], "12.50", "tx-1")
    assert (payment["status"], payment["from_account"], payment["currency"]) == ("initiated", "anchor", "USD")
    # The money leaves the anchor at once (held in flight) and reaches the payee on delivery.
    assert api.balance("anchor") == "-12.50"
    assert api.balance(carol["id"]) == "0.00"

    delivered = api.ok("POST", f"/payments/{payment['id']}/settle", {"status": "delivered"})
    assert delivered["status"] == "delivered" and delivered["settled_at"]
    assert api.balance(carol["id"]) == "12.50"
    assert api.balance("anchor") == "-12.50"
    # Settling again the same way changes nothing; the other way is a conflict.
    assert api.ok("POST", f"/payments/{payment['id']}/settle", {"status": "delivered"}) == delivered
    assert api.call("POST", f"/payments/{payment['id']}/settle", {"status": "failed"})[0] == 409
    assert api.balance(carol["id"]) == "12.50"
    assert api.ok("GET", f"/payments/{payment['id']}") == delivered


def test_failed_payment_returns_the_money(api):
    dave = api.account()
    payment = _pay(api, dave["id"], "7", "tx-2")
    failed = api.ok("POST", f"/payments/{payment['id']}/settle", {"status": "failed", "reason": "account frozen"})
    assert (failed["status"], failed["failure_reason"]) == ("failed", "account frozen")
    assert api.balance("anchor") == "0.00"
    assert api.balance(dave["id"]) == "0.00"
    assert api.call("POST", f"/payments/{payment['id']}/settle", {"status": "delivered"})[0] == 409

    # A payment to an account that does not exist cannot be forced to "delivered".
    ghost = _pay(api, "acc_nobody", "1", "tx-3")
    status, data = api.call("POST", f"/payments/{ghost['id']}/settle", {"status": "delivered"})
    assert status == 409 and "no account" in data["error"]


def test_payments_settle_on_their_own(start_bank):
    api = Api(start_bank(settle_after=0).url)
    erin = api.account()
    closed = api.account()
    api.ok("POST", f"/accounts/{closed['id']}/close")
    euro = api.account(currency="EUR")

    ok = _pay(api, erin["id"], "3", "k-ok", status=201)
    to_closed = _pay(api, closed["id"], "4", "k-closed")
    to_nobody = _pay(api, "acc_nobody", "5", "k-nobody")
    to_euro = _pay(api, euro["id"], "6", "k-euro")

    assert api.ok("GET", f"/payments/{ok['id']}")["status"] == "delivered"
    for payment, reason in ((to_closed, "is closed"), (to_nobody, "no account"), (to_euro, "holds EUR")):
        settled = api.ok("GET", f"/payments/{payment['id']}")
        assert settled["status"] == "failed" and reason in settled["failure_reason"]
    assert api.balance(erin["id"]) == "3.00"
    assert api.balance(closed["id"]) == "0.00"
    assert api.balance("anchor") == "-3.00"


def test_payment_settles_after_the_delay(start_bank):
    api = Api(start_bank(settle_after=0.5).url)
    frank = api.account()
    payment = _pay(api, frank["id"], "1", "k-delay")
    assert api.ok("GET", f"/payments/{payment['id']}")["status"] == "initiated"
    time.sleep(0.7)
    assert api.ok("GET", f"/payments/{payment['id']}")["status"] == "delivered"
    assert api.balance(frank["id"]) == "1.00"


def test_idempotency_key_means_one_payment(api):
    grace = api.account()
    first = _pay(api, grace["id"], "10.00", "withdrawal-42", status=201)
    response = requests.post(f"{api.url}/payments", timeout=10, json={
        "to_account": grace["id"], "amount": "10", "idempotency_key": "withdrawal-42", "memo": "payout"})
    assert response.status_code == 200 and response.headers["Idempotent-Replayed"] == "true"
    assert response.json() == first
    assert api.balance("anchor") == "-10.00"

    for changed in ({"amount": "10.01"}, {"memo": "other"}, {"to_account": "anchor"}):
        body = {"to_account": grace["id"], "amount": "10", "idempotency_key": "withdrawal-42", "memo": "payout",
                **changed}
        status, data = api.call("POST", "/payments", body)
        assert status == 409 and first["id"] in data["error"], changed

    assert api.ok("GET", "/payments", params={"idempotency_key": "withdrawal-42"})["payments"] == [first]
    assert api.ok("GET", "/payments", params={"to_account": grace["id"]})["payments"] == [first]
    assert api.ok("GET", "/payments", params={"status": "initiated"})["payments"] == [first]
    assert api.balance("anchor") == "-10.00"


def test_refund_requests(api):
    body = {"reference": "ABC123", "amount": "5", "beneficiary": "GABC", "reason": "bad amount",
            "idempotency_key": "refund:1"}
    refund = api.ok("POST", "/refunds", body, status=201)
    assert (refund["status"], refund["currency"], refund["amount"]) == ("requested", "USD", "5.00")
    assert api.ok("POST", "/refunds", body) == refund
    assert api.call("POST", "/refunds", {**body, "amount": "6"})[0] == 409
    assert api.ok("GET", "/refunds", params={"reference": "abc123"})["refunds"] == [refund]
    assert api.ok("GET", f"/refunds/{refund['id']}") == refund
    assert api.balance("anchor") == "0.00"


def test_restart_keeps_the_books(start_bank):
    bank = start_bank()
    api = Api(bank.url)
    heidi = api.account(cash="50")
    transfer = api.ok("POST", "/transfers", {"from_account": heidi["id"], "to_account": "anchor", "amount": "20",
                                             "currency": "USD", "reference": "REF1"}, status=201)
    payment = _pay(api, heidi["id"], "8", "k-restart")
    assert bank.stop() == 0  # SIGTERM is a clean stop

    api = Api(start_bank().url)
    assert api.balance(heidi["id"]) == "30.00"
    assert api.balance("anchor") == "12.00"
    assert api.ok("GET", "/transfers", params={"reference": "REF1"})["transfers"] == [transfer]
    assert _pay(api, heidi["id"], "8", "k-restart", status=200) == payment
    api.ok("POST", f"/payments/{payment['id']}/settle", {"status": "delivered"})
    assert api.balance(heidi["id"]) == "38.00"
    assert len(api.ok("GET", "/payments")["payments"]) == 1


def test_payment_due_while_the_bank_was_down_settles_after_restart(start_bank):
    bank = start_bank(settle_after=0.3)
    api = Api(bank.url)
    ivan = api.account()
    payment = _pay(api, ivan["id"], "2", "k-down")
    bank.kill()
    time.sleep(0.4)
    api = Api(start_bank(settle_after=0.3).url)
    assert api.ok("GET", f"/payments/{payment['id']}")["status"] == "delivered"
    assert api.balance(ivan["id"]) == "2.00"


@pytest.mark.parametrize("method, path, body, status, message", [
    ("POST", "/accounts", b"{not json", 400, "JSON"),
    ("POST", "/accounts", b"[1, 2]", 400, "object"),
    ("POST", "/accounts", b"", 400, "missing field(s): currency, name"),
    ("POST", "/accounts", {"name": "x"}, 400, "missing field(s): currency"),
    ("POST", "/accounts", {"name": "x", "currency": "USD", "extra": 1}, 400, "unknown field(s): extra"),
    ("POST", "/accounts", {"name": "x", "currency": "usd"}, 400, "currency"),
    ("POST", "/accounts", {"name": " ", "currency": "USD"}, 400, "name"),
    ("POST", "/accounts", {"name": 5, "currency": "USD"}, 400, "name"),
    ("POST", "/accounts/anchor/cash", {"amount": 10}, 400, "decimal string"),
    ("POST", "/accounts/anchor/cash", {"amount": 10.5}, 400, "decimal string"),
    ("POST", "/accounts/anchor/cash", {"amount": "-1"}, 400, "decimal string"),
    ("POST", "/accounts/anchor/cash", {"amount": "0"}, 400, "greater than 0"),
    ("POST", "/accounts/anchor/cash", {"amount": "1e3"}, 400, "decimal string"),
    ("POST", "/accounts/anchor/cash", {"amount": "1.12345678"}, 400, "at most 7 decimals"),
    ("POST", "/accounts/anchor/cash", {"amount": "NaN"}, 400, "decimal string"),
    ("POST", "/accounts/anchor/cash", {"amount": "999999999999"}, 400, "at most"),
    ("POST", "/accounts/acc_missing/cash", {"amount": "1"}, 404, "no account"),
    ("GET", "/accounts/acc_missing", None, 404, "no account"),
    ("POST", "/transfers", {"from_account": "a", "to_account": "b", "amount": "1"}, 400, "currency"),
    ("POST", "/transfers", {"from_account": "", "to_account": "b", "amount": "1", "currency": "USD"}, 400,
     "from_account"),
    ("GET", "/transfers?ref=x", None, 400, "unknown query parameter(s): ref"),
    ("GET", "/transfers/tr_missing", None, 404, "no transfer"),
    ("POST", "/payments", {"to_account": "a", "amount": "1"}, 400, "idempotency_key"),
    ("POST", "/payments", {"to_account": "a", "amount": "1", "idempotency_key": "k", "currency": "EUR"}, 422,
     "holds USD"),
    ("POST", "/payments", {"to_account": "a", "amount": "1", "idempotency_key": "k", "memo": 7}, 400, "memo"),
    ("GET", "/payments?account=x", None, 400, "unknown query parameter(s): account"),
    ("GET", "/payments/pay_missing", None, 404, "no payment"),
    ("POST", "/payments/pay_missing/settle", {"status": "delivered"}, 404, "no payment"),
    ("POST", "/payments/pay_missing/settle", {"status": "done"}, 400, "status must be"),
    ("POST", "/refunds", {"reference": "r", "amount": "1"}, 400, "idempotency_key"),
    ("GET", "/refunds/ref_missing", None, 404, "no refund"),
    ("GET", "/nowhere", None, 404, "Not Found"),
    ("DELETE", "/accounts", None, 405, "Method Not Allowed"),
])
def test_bad_input_is_a_4xx_json_error(shared_api, method, path, body, status, message):
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    response = requests.request(method, shared_api.url + path, timeout=10, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert message in response.json()["error"]
