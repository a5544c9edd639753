"""The hosted interactive flow driven through HTTP: token → session, form posts, the end states, callbacks."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django import forms
from stellar_sdk import Keypair

from polaris.integrations import DepositIntegration, WithdrawalIntegration, register_integrations, reset_integrations
from polaris.models import Transaction, TransactionStatusChange
from polaris.shared.testing import Wallet

pytestmark = pytest.mark.django_db
SIGNING_KEY = Keypair.from_secret("SD7JC7M3K5C2RGEMTU72HR3UKV6RJFBHCC3SNBB65PVC27NKERQFVILK")


@pytest.fixture(autouse=True)
def clean_integrations():
    yield
    reset_integrations()


def begin(client, wallet: Wallet, kind="deposit", **body) -> tuple[str, str]:
    response = client.post(
        f"/sep24/transactions/{kind}/interactive", {"asset_code": "USD", **body}, content_type="application/json", **wallet.auth
    )
    assert response.status_code == 200, response.content
    return response.json()["id"], response.json()["url"]


def path_of(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def open_page(client, url: str):
    """Follow the interactive URL like a browser: the token is exchanged and the page is shown."""
    response = client.get(path_of(url))
    assert response.status_code == 302, response.content
    assert "token=" not in response["Location"]
    return response["Location"], client.get(response["Location"])


def test_deposit_flow_from_token_to_pending_user_transfer_start(client, usd, wallet):
    tx_id, url = begin(client, wallet, amount="100")
    page_url, page = open_page(client, url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert 'name="amount"' in html and 'value="100' in html and "Deposit" in html
    assert 'lang="en"' in html and "<label" in html and "Fee: 1 USD + 1% of the amount." in html

    response = client.post(page_url, {"amount": "5"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Transaction.objects.get(id=tx_id).status == "incomplete"

    response = client.post(page_url, {"amount": "200"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/sep24/transaction/more_info?id={tx_id}")
    tx = client.get("/sep24/transaction", {"id": tx_id}, **wallet.auth).json()["transaction"]
    assert tx["status"] == "pending_user_transfer_start"
    assert (tx["amount_in"], tx["amount_fee"], tx["amount_out"]) == ("200.00", "3.00", "197.00")
    assert tx["fee_details"] == {"total": "3.00", "asset": usd.asset_identification_format}
    assert tx["amount_in_asset"] == tx["amount_out_asset"] == usd.asset_identification_format
    change = TransactionStatusChange.objects.filter(transaction_id=tx_id).order_by("-id").first()
    assert (change.from_status, change.to_status, change.actor) == ("incomplete", "pending_user_transfer_start", "sep24-interactive")

    more_info = client.get(urlparse(tx["more_info_url"]).path, {"id": tx_id})
    assert more_info.status_code == 200 and more_info["Content-Type"].startswith("text/html")
    # Finished: the form page now sends the user to the status page.
    assert client.get(page_url)["Location"].endswith(f"more_info?id={tx_id}")


def test_withdrawal_flow_gets_distribution_account_and_unique_id_memo(client, usd, wallet):
    memos = set()
    for _ in range(2):
        tx_id, url = begin(client, wallet, kind="withdraw")
        page_url, page = open_page(client, url)
        assert "Withdraw" in page.content.decode()
        assert client.post(page_url, {"amount": "50"}).status_code == 302
        tx = client.get("/sep24/transaction", {"id": tx_id}, **wallet.auth).json()["transaction"]
        assert tx["status"] == "pending_user_transfer_start"
        assert tx["withdraw_anchor_account"] == usd.distribution_account
        assert tx["withdraw_memo_type"] == "id" and 0 < int(tx["withdraw_memo"]) < 2**64
        assert (tx["amount_in"], tx["amount_fee"], tx["amount_out"]) == ("50.00", "2.00", "48.00")
        assert tx["from"] == wallet.account
        memos.add(tx["withdraw_memo"])
        html = client.get("/sep24/transaction/more_info", {"id": tx_id}).content.decode()
        assert usd.distribution_account in html and tx["withdraw_memo"] in html
    assert len(memos) == 2


def test_token_is_single_use_and_needed(client, usd, wallet, settings):
    tx_id, url = begin(client, wallet)
    open_page(client, url)
    client.cookies.clear()
    response = client.get(path_of(url))
    assert response.status_code == 403 and "already used" in response.content.decode()
    # Without a redeemed token, the page refuses.
    response = client.get(f"/sep24/transactions/deposit/webapp?transaction_id={tx_id}")
    assert response.status_code == 403
    # A token for one transaction does not open another.
    other_id, other_url = begin(client, wallet)
    query = parse_qs(urlparse(other_url).query)
    response = client.get("/sep24/transactions/deposit/webapp", {"transaction_id": tx_id, "token": query["token"][0]})
    assert response.status_code == 403
    # Expired.
    settings.POLARIS_INTERACTIVE_JWT_EXPIRATION = -1
    _, expired_url = begin(client, wallet)
    response = client.get(path_of(expired_url))
    assert response.status_code == 403 and "expired" in response.content.decode()


def test_post_message_callback(client, usd, wallet):
    tx_id, url = begin(client, wallet)
    page_url, _ = open_page(client, url + "&callback=postMessage")
    response = client.post(page_url, {"amount": "100"})
    assert "callback=postMessage" in response["Location"]
    html = client.get(path_of(response["Location"])).content.decode()
    assert 'id="polaris-post-message"' in html and 'id="polaris-transaction"' in html
    assert "polaris/polaris.js" in html


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers["Signature"], body.decode(), self.headers["Host"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_callback_url_receives_one_signed_post_and_on_change_callback_is_stored(client, usd, wallet):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{server.server_port}/done"
    try:
        tx_id, url = begin(client, wallet)
        page_url, _ = open_page(client, f"{url}&callback={callback}&on_change_callback={callback}")
        assert Transaction.objects.get(id=tx_id).on_change_callback == callback
        client.post(page_url, {"amount": "100"})
    finally:
        server.shutdown()
    assert len(Receiver.received) == 1
    header, body, host = Receiver.received[0]
    fields = dict(part.strip().split("=", 1) for part in header.split(","))
    assert abs(int(fields["t"]) - time.time()) < 60
    SIGNING_KEY.verify(f"{fields['t']}.{host}.{body}".encode(), base64.b64decode(fields["s"]))
    assert json.loads(body)["transaction"]["id"] == tx_id


class NameForm(forms.Form):
    full_name = forms.CharField(label="Full name")


class KycDeposit(DepositIntegration):
    """Asks a name first, then lets Polaris ask the amount; gives bank instructions at the end."""

    def form_for_transaction(self, request, transaction, post_data=None, amount=None, *args, **kwargs):
        if transaction.external_extra_text is None:
            return NameForm(post_data)
        return None

    def content_for_template(self, request, template, form=None, transaction=None, *args, **kwargs):
        return {"title": "Bank deposit", "guidance": "Tell us who you are."}

    def after_form_validation(self, request, form, transaction, *args, **kwargs):
        if isinstance(form, NameForm):
            transaction.external_extra_text = form.cleaned_data["full_name"]
        else:
            transaction.instructions = {
                "organization.bank_account_number": {"value": "ANCHOR-1", "description": "Bank account"},
                "external_transfer_memo": {"value": "REF123", "description": "Reference"},
            }


def test_integration_forms_then_amount_then_instructions(client, usd, wallet):
    register_integrations(deposit=KycDeposit())
    tx_id, url = begin(client, wallet)
    page_url, page = open_page(client, url)
    html = page.content.decode()
    assert "Full name" in html and "Bank deposit" in html and "Tell us who you are." in html
    response = client.post(page_url, {"full_name": "Ada Lovelace"})
    assert response.status_code == 303 and response["Location"] == page_url
    assert 'name="amount"' in client.get(page_url).content.decode()
    more_info = client.post(page_url, {"amount": "100"})["Location"]
    tx = Transaction.objects.get(id=tx_id)
    assert tx.status == "pending_user_transfer_start" and tx.external_extra_text == "Ada Lovelace"
    html = client.get(path_of(more_info)).content.decode()
    assert "REF123" in html and "ANCHOR-1" in html


class ExternalWithdrawal(WithdrawalIntegration):
    def interactive_url(self, request, transaction, asset, amount, callback, lang, *args, **kwargs):
        return f"https://app.anchor.example/withdraw?tx={transaction.id}"

    def after_interactive_flow(self, request, transaction, *args, **kwargs):
        transaction.amount_in = transaction.amount_expected = 20
        transaction.amount_fee, transaction.amount_out = 2, 18
        transaction.save()


def test_external_interactive_app_and_completion(client, usd, wallet):
    register_integrations(withdrawal=ExternalWithdrawal())
    tx_id, url = begin(client, wallet, kind="withdraw")
    location, page = open_page(client, url)
    assert page.status_code == 302 and page["Location"] == f"https://app.anchor.example/withdraw?tx={tx_id}"
    response = client.get("/sep24/transactions/withdraw/interactive/complete", {"transaction_id": tx_id})
    assert response.status_code == 302
    tx = Transaction.objects.get(id=tx_id)
    assert tx.status == "pending_user_transfer_start" and tx.amount_in == 20 and tx.memo and tx.receiving_anchor_account
    client.cookies.clear()
    assert client.get("/sep24/transactions/withdraw/interactive/complete", {"transaction_id": tx_id}).status_code == 403


def test_more_info_is_public_and_404s_unknown_ids(client, usd, wallet):
    tx_id, _ = begin(client, wallet)
    client.cookies.clear()
    response = client.get("/sep24/transaction/more_info", {"id": tx_id})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert client.get("/sep24/transaction/more_info", {"id": "nope"}).status_code == 404


def test_withdrawal_without_distribution_account_fails_clearly(client, usd, wallet):
    usd.distribution_account = None
    usd.encrypted_distribution_seed = None
    usd.save()
    tx_id, url = begin(client, wallet, kind="withdraw")
    page_url, _ = open_page(client, url)
    response = client.post(page_url, {"amount": "50"})
    assert response.status_code == 503 and "distribution account" in response.content.decode()
    assert Transaction.objects.get(id=tx_id).status == "incomplete"
