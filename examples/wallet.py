"""A scripted wallet: one deposit or withdrawal against a running anchor, as a person with a wallet does it.

    python -m examples.wallet deposit  --anchor http://127.0.0.1:8001 --horizon http://127.0.0.1:8000 \\
                                       --bank http://127.0.0.1:8100 --amount 10 [--sep 24|6]
    python -m examples.wallet withdraw ...same options...

Only public interfaces: the anchor's stellar.toml (SEP-1), SEP-10, SEP-24 (its interactive pages filled in
with plain form posts, as a browser without JavaScript would) or SEP-6 with SEP-12 KYC, Horizon, and the
sandbox bank's HTTP API. A fresh Stellar account is made each run (friendbot), and a fresh bank customer
with cash. ``withdraw`` first deposits the amount, so the new account has something to withdraw.
The steps are functions, so end-to-end tests run the same wallet.
"""

import argparse
import base64
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import requests
from stellar_sdk import Asset, HashMemo, IdMemo, Keypair, Server, TextMemo, TransactionBuilder
from stellar_sdk.sep.stellar_web_authentication import read_challenge_transaction

TIMEOUT = 15
# The labels the demo anchor gives its deposit instructions (examples/anchor/transfers.py). SEP-24 has no
# machine-readable instructions: a person reads them on the more_info page, and so does this wallet.
BANK_ACCOUNT_LABEL = "Bank account"
REFERENCE_LABEL = "Reference"
KYC = {"first_name": "Ada", "last_name": "Lovelace", "email_address": "ada@wallet.example"}


def say(message: str) -> None:
    print(f"wallet: {message}", flush=True)


@dataclass
class Wallet:
    """A wallet user at one anchor: its Stellar keys, the anchor's stellar.toml, and a SEP-10 token."""

    anchor: str
    horizon: str
    keypair: Keypair
    toml: dict
    asset: Asset
    token: str = ""
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def account(self) -> str:
        return self.keypair.public_key

    @property
    def passphrase(self) -> str:
        return self.toml["NETWORK_PASSPHRASE"]

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, url: str, **kwargs) -> dict:
        response = self.http.request(method, url, headers=self.auth, timeout=TIMEOUT, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:500]}")
        return response.json()


def _check(response: requests.Response) -> requests.Response:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}")
    return response


# ---- Stellar: discovery, account, SEP-10 -----------------------------------------------------------------


def discover(anchor: str, asset_code: str | None = None) -> tuple[dict, Asset]:
    """SEP-1: the anchor's stellar.toml and the asset it offers (the first, or the one named)."""
    toml = tomllib.loads(_check(requests.get(f"{anchor}/.well-known/stellar.toml", timeout=TIMEOUT)).text)
    currencies = [c for c in toml.get("CURRENCIES", []) if asset_code in (None, c["code"])]
    if not currencies:
        raise RuntimeError(f"the anchor's stellar.toml lists no asset {asset_code or ''}".rstrip())
    asset = Asset(currencies[0]["code"], currencies[0]["issuer"])
    say(f"anchor {anchor} offers {asset.code}:{asset.issuer} on {toml['NETWORK_PASSPHRASE']!r}")
    return toml, asset


def create_account(anchor: str, horizon: str, asset_code: str | None = None) -> Wallet:
    """A new Stellar account funded by friendbot, trusting the anchor's asset."""
    toml, asset = discover(anchor, asset_code)
    keypair = Keypair.random()
    _check(requests.get(f"{horizon}/friendbot", params={"addr": keypair.public_key}, timeout=60))
    server = Server(horizon)
    envelope = (
        TransactionBuilder(server.load_account(keypair.public_key), toml["NETWORK_PASSPHRASE"], base_fee=100)
        .append_change_trust_op(asset)
        .set_timeout(60)
        .build()
    )
    envelope.sign(keypair)
    server.submit_transaction(envelope)
    say(f"created Stellar account {keypair.public_key} (friendbot) with a trustline to {asset.code}")
    return Wallet(anchor=anchor, horizon=horizon, keypair=keypair, toml=toml, asset=asset)


def authenticate(wallet: Wallet) -> str:
    """SEP-10: check the anchor's challenge (signed by its SIGNING_KEY, for its domain), sign it, get a token."""
    endpoint = wallet.toml["WEB_AUTH_ENDPOINT"]
    home_domain = urlparse(wallet.anchor).netloc
    challenge = _check(requests.get(endpoint, params={"account": wallet.account}, timeout=TIMEOUT)).json()
    read_challenge_transaction(
        challenge["transaction"], wallet.toml["SIGNING_KEY"], home_domain, urlparse(endpoint).netloc, wallet.passphrase
    )
    envelope = TransactionBuilder.from_xdr(challenge["transaction"], wallet.passphrase)
    envelope.sign(wallet.keypair)
    wallet.token = _check(requests.post(endpoint, json={"transaction": envelope.to_xdr()}, timeout=TIMEOUT)).json()["token"]
    say("authenticated with SEP-10")
    return wallet.token


def stellar_balance(wallet: Wallet) -> Decimal:
    account = _check(requests.get(f"{wallet.horizon}/accounts/{wallet.account}", timeout=TIMEOUT)).json()
    for balance in account["balances"]:
        if (balance.get("asset_code"), balance.get("asset_issuer")) == (wallet.asset.code, wallet.asset.issuer):
            return Decimal(balance["balance"])
    return Decimal(0)


def pay_anchor(wallet: Wallet, destination: str, amount: str, memo: str, memo_type: str) -> str:
    """The withdrawal's Stellar payment to the anchor, with the memo it gave; returns the transaction hash."""
    memos = {"id": lambda: IdMemo(int(memo)), "text": lambda: TextMemo(memo), "hash": lambda: HashMemo(base64.b64decode(memo))}
    server = Server(wallet.horizon)
    envelope = (
        TransactionBuilder(server.load_account(wallet.account), wallet.passphrase, base_fee=100)
        .append_payment_op(destination, wallet.asset, amount)
        .add_memo(memos[memo_type]())
        .set_timeout(60)
        .build()
    )
    envelope.sign(wallet.keypair)
    tx_hash = server.submit_transaction(envelope)["hash"]
    say(f"paid {amount} {wallet.asset.code} to {destination} with {memo_type} memo {memo} (tx {tx_hash})")
    return tx_hash


# ---- The sandbox bank ------------------------------------------------------------------------------------


def bank_customer(bank: str, cash: str = "0") -> str:
    """A new customer account at the sandbox bank, with `cash` paid in at the counter; returns its id."""
    account = _check(requests.post(f"{bank}/accounts", json={"name": "Wallet user", "currency": "USD"}, timeout=TIMEOUT)).json()
    if Decimal(cash):
        _check(requests.post(f"{bank}/accounts/{account['id']}/cash", json={"amount": cash}, timeout=TIMEOUT))
    say(f"opened bank account {account['id']} with {cash} {account['currency']} in cash")
    return account["id"]


def bank_balance(bank: str, account_id: str) -> Decimal:
    return Decimal(_check(requests.get(f"{bank}/accounts/{account_id}", timeout=TIMEOUT)).json()["balance"])


def bank_transfer(bank: str, from_account: str, to_account: str, amount: str, reference: str) -> dict:
    """The deposit's bank transfer, carrying the anchor's reference."""
    currency = _check(requests.get(f"{bank}/accounts/{from_account}", timeout=TIMEOUT)).json()["currency"]
    transfer = _check(requests.post(f"{bank}/transfers", json={
        "from_account": from_account, "to_account": to_account, "amount": amount, "currency": currency,
        "reference": reference,
    }, timeout=TIMEOUT)).json()  # fmt: skip
    say(f"sent {amount} {currency} from bank account {from_account} to {to_account} with reference {reference}")
    return transfer


# ---- The interactive pages, without JavaScript -----------------------------------------------------------


class _Page(HTMLParser):
    """What a person sees on a page: the form's fields, the error messages, and <dt>/<dd> pairs."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.has_form = False
        self.errors: list[str] = []
        self.pairs: dict[str, str] = {}
        self._text: list[str] | None = None
        self._dt: str | None = None
        self._in_errors = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.has_form = True
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag in ("dt", "dd", "li"):
            self._text = []
        elif tag == "div" and "error-summary" in (attrs.get("class") or ""):
            self._in_errors += 1

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text or []).split())
        if tag == "dt":
            self._dt = text
        elif tag == "dd" and self._dt is not None:
            self.pairs[self._dt] = text
            self._dt = None
        elif tag == "li" and self._in_errors:
            self.errors.append(text)
        elif tag == "div" and self._in_errors:
            self._in_errors -= 1
        if tag in ("dt", "dd", "li"):
            self._text = None


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def complete_interactive(url: str, answers: dict) -> requests.Response:
    """Fill in every form of a SEP-24 interactive flow from `answers` (field name -> value), like a browser
    without JavaScript: one cookie session, the forms' hidden fields (CSRF) sent back, redirects followed.
    Returns the last page (the transaction's more_info page); raises with the page's errors on a refusal."""
    browser = requests.Session()
    response = _check(browser.get(url, timeout=TIMEOUT))
    for _ in range(10):
        page = read_page(response.text)
        if not page.has_form:
            return response
        data = {**page.fields, **{name: value for name, value in answers.items() if name in page.fields}}
        say(f"interactive page {urlparse(response.url).path}: submitting {sorted(set(data) - {'csrfmiddlewaretoken'})}")
        response = browser.post(response.url, data=data, headers={"Referer": response.url}, timeout=TIMEOUT)
        if response.status_code == 400:
            raise RuntimeError(f"the anchor refused the form: {'; '.join(read_page(response.text).errors)}")
        _check(response)
    raise RuntimeError("the interactive flow did not end after 10 forms")


# Completes a SEP-24 interactive flow: (interactive URL, answers by field name) -> the last page's HTML. The
# flows take one so a test can complete the pages in a real browser instead of with plain form posts.
Interactive = Callable[[str, dict], str]


def post_forms(url: str, answers: dict) -> str:
    """The default Interactive: plain form posts (complete_interactive)."""
    return complete_interactive(url, answers).text


# ---- SEP-24 and SEP-6 ------------------------------------------------------------------------------------


def start_sep24(wallet: Wallet, kind: str, amount: str) -> dict:
    """POST .../transactions/{deposit|withdraw}/interactive: the transaction id and its interactive URL."""
    url = f"{wallet.toml['TRANSFER_SERVER_SEP0024']}/transactions/{kind}/interactive"
    started = wallet.call("POST", url, json={"asset_code": wallet.asset.code, "account": wallet.account, "amount": amount})
    say(f"started SEP-24 {kind} {started['id']}")
    return started


def put_customer(wallet: Wallet) -> str:
    """SEP-12: give the anchor the KYC fields it asks for; returns the customer id."""
    kyc_server = wallet.toml["KYC_SERVER"]
    customer = wallet.call("GET", f"{kyc_server}/customer")
    if customer["status"] == "NEEDS_INFO":
        fields = {name: KYC[name] for name in customer["fields"]}
        wallet.call("PUT", f"{kyc_server}/customer", json=fields)
        customer = wallet.call("GET", f"{kyc_server}/customer")
        say(f"SEP-12: sent {sorted(fields)}")
    say(f"SEP-12: customer {customer['id']} is {customer['status']}")
    return customer["id"]


def sep6(wallet: Wallet, kind: str, amount: str, **params) -> dict:
    """GET /deposit or /withdraw of SEP-6 (`kind` deposit|withdraw), after SEP-12 KYC."""
    put_customer(wallet)
    url = f"{wallet.toml['TRANSFER_SERVER']}/{kind}"
    answer = wallet.call("GET", url, params={"asset_code": wallet.asset.code, "amount": amount, **params})
    say(f"started SEP-6 {kind} {answer['id']}")
    return answer


def transaction(wallet: Wallet, sep: str, transaction_id: str) -> dict:
    server = wallet.toml["TRANSFER_SERVER_SEP0024" if sep == "24" else "TRANSFER_SERVER"]
    return wallet.call("GET", f"{server}/transaction", params={"id": transaction_id})["transaction"]


def wait_for_status(wallet: Wallet, sep: str, transaction_id: str, wanted: str, timeout: float = 120.0) -> dict:
    """Poll /transaction until `wanted`, printing each status; fails fast on error/refunded/expired."""
    deadline, seen = time.monotonic() + timeout, None
    while True:
        current = transaction(wallet, sep, transaction_id)
        if current["status"] != seen:
            seen = current["status"]
            say(f"transaction {transaction_id} is {seen}" + (f" ({current['message']})" if current.get("message") else ""))
        if seen == wanted:
            return current
        if seen in ("error", "refunded", "expired", "no_market", "too_small", "too_large"):
            raise RuntimeError(f"transaction {transaction_id} ended {seen}: {current.get('message')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"transaction {transaction_id} still {seen} after {timeout:.0f} s")
        time.sleep(0.5)


# ---- The two flows ---------------------------------------------------------------------------------------


def deposit(wallet: Wallet, bank: str, amount: str, sep: str = "24", bank_account: str | None = None,
            interactive: Interactive = post_forms) -> dict:
    """A deposit end to end: start it, get the bank instructions, send the money at the bank, wait for
    `completed`. Returns the completed transaction."""
    bank_account = bank_account or bank_customer(bank, cash=amount)
    if sep == "24":
        started = start_sep24(wallet, "deposit", amount)
        page = read_page(interactive(started["url"], {"amount": amount}))
        instructions = {BANK_ACCOUNT_LABEL: page.pairs.get(BANK_ACCOUNT_LABEL), REFERENCE_LABEL: page.pairs.get(REFERENCE_LABEL)}
        transaction_id = started["id"]
    else:
        answer = sep6(wallet, "deposit", amount, account=wallet.account)
        instructions = {item["description"]: item["value"] for item in answer.get("instructions", {}).values()}
        transaction_id = answer["id"]
    if not all(instructions.values()):
        raise RuntimeError(f"no bank instructions from the anchor: {instructions}")
    say(f"instructions: send {amount} to bank account {instructions[BANK_ACCOUNT_LABEL]} "
        f"with reference {instructions[REFERENCE_LABEL]}")  # fmt: skip
    bank_transfer(bank, bank_account, instructions[BANK_ACCOUNT_LABEL], amount, instructions[REFERENCE_LABEL])
    done = wait_for_status(wallet, sep, transaction_id, "completed")
    say(f"Stellar balance: {stellar_balance(wallet)} {wallet.asset.code}")
    return done


def withdraw(wallet: Wallet, bank: str, amount: str, sep: str = "24", bank_account: str | None = None,
             interactive: Interactive = post_forms) -> dict:
    """A withdrawal end to end: start it with the bank account to be paid, pay the anchor on Stellar with
    its memo, wait for `completed`. Returns the completed transaction."""
    bank_account = bank_account or bank_customer(bank)
    if sep == "24":
        started = start_sep24(wallet, "withdraw", amount)
        interactive(started["url"], {"amount": amount, "bank_account": bank_account})
        transaction_id = started["id"]
    else:
        transaction_id = sep6(wallet, "withdraw", amount, type="bank_account", dest=bank_account)["id"]
    pending = wait_for_status(wallet, sep, transaction_id, "pending_user_transfer_start")
    pay_anchor(wallet, pending["withdraw_anchor_account"], pending["amount_in"], pending["withdraw_memo"],
               pending["withdraw_memo_type"])  # fmt: skip
    done = wait_for_status(wallet, sep, transaction_id, "completed")
    say(f"bank balance of {bank_account}: {bank_balance(bank, bank_account)}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flow", choices=["deposit", "withdraw"])
    parser.add_argument("--anchor", default="http://127.0.0.1:8001")
    parser.add_argument("--horizon", default="http://127.0.0.1:8000")
    parser.add_argument("--bank", default="http://127.0.0.1:8100")
    parser.add_argument("--amount", default="10")
    parser.add_argument("--sep", choices=["24", "6"], default="24", help="SEP-24 (interactive) or SEP-6")
    parser.add_argument("--asset", help="asset code (default: the first in stellar.toml)")
    options = parser.parse_args(argv)
    anchor = options.anchor.rstrip("/")

    wallet = create_account(anchor, options.horizon.rstrip("/"), options.asset)
    authenticate(wallet)
    bank_account = bank_customer(options.bank, cash=options.amount)
    if options.flow == "withdraw":
        say(f"first a deposit of {options.amount}, so there is something to withdraw")
    deposit(wallet, options.bank, options.amount, options.sep, bank_account)
    if options.flow == "withdraw":
        withdraw(wallet, options.bank, options.amount, options.sep, bank_account)
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
