"""GET /auth: the challenge's shape (§14 checks 4-13, 24), parameter errors, and client attribution."""

import base64
import time

import pytest
from stellar_sdk import Keypair, ManageData, MuxedAccount, TransactionEnvelope
from stellar_sdk.memo import IdMemo, NoneMemo

from polaris.sep10.tests.helpers import PASSPHRASE, SERVER_KEY, TomlServer, get_challenge


def decode(envelope_xdr: str) -> TransactionEnvelope:
    return TransactionEnvelope.from_xdr(envelope_xdr, PASSPHRASE)


def test_challenge_shape(client):
    account = Keypair.random().public_key
    before = int(time.time())
    response = client.get("/auth", {"account": account})
    after = int(time.time())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert set(body) == {"transaction", "network_passphrase"}
    assert body["network_passphrase"] == PASSPHRASE

    envelope = decode(body["transaction"])
    tx = envelope.transaction
    assert tx.source.account_id == SERVER_KEY
    assert tx.sequence == 0
    assert before <= tx.preconditions.time_bounds.min_time <= after
    assert tx.preconditions.time_bounds.max_time - tx.preconditions.time_bounds.min_time == 900
    assert isinstance(tx.memo, NoneMemo)
    assert all(isinstance(op, ManageData) for op in tx.operations)

    first = tx.operations[0]
    assert first.source.account_id == account
    assert first.data_name == "testserver auth"
    assert len(first.data_value) == 64 and len(base64.b64decode(first.data_value)) == 48

    later = {op.data_name: op for op in tx.operations[1:]}
    assert set(later) == {"web_auth_domain"}
    assert later["web_auth_domain"].source.account_id == SERVER_KEY
    assert later["web_auth_domain"].data_value == b"testserver"

    assert len(envelope.signatures) == 1
    Keypair.from_public_key(SERVER_KEY).verify(envelope.hash(), envelope.signatures[0].signature)


def test_nonces_differ(client):
    account = Keypair.random().public_key
    first, second = (decode(get_challenge(client, account)).transaction.operations[0].data_value for _ in range(2))
    assert first != second


@pytest.mark.parametrize("memo", ["123", "0", str(2**64 - 1)])
def test_id_memo(client, memo):
    tx = decode(get_challenge(client, Keypair.random().public_key, memo=memo)).transaction
    assert isinstance(tx.memo, IdMemo) and tx.memo.memo_id == int(memo)


@pytest.mark.parametrize("memo", ["abc", "-1", "1.5", "", str(2**64), "١٢"])
def test_bad_memo(client, memo):
    response = client.get("/auth", {"account": Keypair.random().public_key, "memo": memo})
    assert response.status_code == 400
    assert "memo" in response.json()["error"]


def test_muxed_account(client):
    muxed = MuxedAccount(Keypair.random().public_key, 2**63 + 5).account_muxed
    tx = decode(get_challenge(client, muxed)).transaction
    assert tx.operations[0].source.account_muxed == muxed


def test_muxed_account_with_memo(client):
    muxed = MuxedAccount(Keypair.random().public_key, 7).account_muxed
    response = client.get("/auth", {"account": muxed, "memo": "1"})
    assert response.status_code == 400
    assert "muxed" in response.json()["error"]


def _broken_checksum(key: str) -> str:
    """The last character carries only checksum bits (56 x 5 bits = 35 bytes), so changing it breaks the CRC."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"account": ""},
        {"account": "not-a-key"},
        {"account": _broken_checksum(Keypair.random().public_key)},
        {"account": "C" + Keypair.random().public_key[1:]},
        {"account": Keypair.random().secret},
    ],
)
def test_bad_account(client, params):
    response = client.get("/auth", params)
    assert response.status_code == 400
    assert "account" in response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_home_domains(client, settings):
    settings.POLARIS_SEP10_HOME_DOMAINS = ["testserver", "alt.example:8443"]
    account = Keypair.random().public_key
    assert decode(get_challenge(client, account)).transaction.operations[0].data_name == "testserver auth"
    alt = decode(get_challenge(client, account, home_domain="alt.example:8443")).transaction
    assert alt.operations[0].data_name == "alt.example:8443 auth"

    response = client.get("/auth", {"account": account, "home_domain": "evil.example"})
    assert response.status_code == 400
    assert "home_domain" in response.json()["error"]


def test_web_auth_domain_keeps_the_port(client, settings):
    settings.POLARIS_HOST_URL = "http://localhost:8000"
    tx = decode(get_challenge(client, Keypair.random().public_key)).transaction
    assert tx.operations[0].data_name == "localhost:8000 auth"
    assert tx.operations[1].data_value == b"localhost:8000"


def test_preflight(client):
    response = client.options(
        "/auth", HTTP_ORIGIN="https://wallet.example", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "authorization, content-type"


def test_other_methods_are_refused(client):
    response = client.put("/auth")
    assert response.status_code == 405
    assert response["Access-Control-Allow-Origin"] == "*"


# Client attribution ----------------------------------------------------------------------------------


@pytest.fixture
def wallet_site():
    site = TomlServer()
    yield site
    site.close()


def client_domain_op(envelope_xdr: str):
    return next((op for op in decode(envelope_xdr).transaction.operations if op.data_name == "client_domain"), None)


def test_client_domain(client, wallet_site):
    wallet_key = Keypair.random().public_key
    wallet_site.body = f'VERSION = "2.7.0"\nSIGNING_KEY = "{wallet_key}"\n'.encode()
    op = client_domain_op(get_challenge(client, Keypair.random().public_key, client_domain=wallet_site.domain))
    assert op.source.account_id == wallet_key
    assert op.data_value == wallet_site.domain.encode()


@pytest.mark.parametrize(
    "body,status,headers,reason",
    [
        (b'VERSION = "2.7.0"\n', 200, {}, "SIGNING_KEY"),
        (b'SIGNING_KEY = "GNOTAKEY"\n', 200, {}, "SIGNING_KEY"),
        (b"SIGNING_KEY = [1, 2\n", 200, {}, "TOML"),
        (b"\xff\xfe", 200, {}, "TOML"),
        (b"", 404, {}, "404"),
        (b"", 302, {"Location": "http://127.0.0.1:1/.well-known/stellar.toml"}, "302"),
        (b"# padding\n" * 11000, 200, {}, "larger"),
    ],
)
def test_client_domain_toml_problems(client, wallet_site, body, status, headers, reason):
    wallet_site.body, wallet_site.status, wallet_site.headers = body, status, headers
    response = client.get("/auth", {"account": Keypair.random().public_key, "client_domain": wallet_site.domain})
    assert response.status_code == 400
    assert reason in response.json()["error"]


@pytest.mark.parametrize("domain", ["127.0.0.1:1", "wallet.example/evil", "user@wallet.example", "http://wallet.example"])
def test_client_domain_unreachable_or_malformed(client, domain):
    response = client.get("/auth", {"account": Keypair.random().public_key, "client_domain": domain})
    assert response.status_code == 400
    assert response.json()["error"].startswith("client_domain")


def test_client_domain_must_be_public_outside_local_mode(client, settings, wallet_site):
    settings.POLARIS_LOCAL_MODE = False
    settings.POLARIS_HOST_URL = "https://testserver"
    wallet_site.body = f'SIGNING_KEY = "{Keypair.random().public_key}"\n'.encode()
    response = client.get("/auth", {"account": Keypair.random().public_key, "client_domain": wallet_site.domain})
    assert response.status_code == 400
    assert "non-public" in response.json()["error"]


def test_client_domain_required(client, settings):
    settings.POLARIS_SEP10_CLIENT_ATTRIBUTION_REQUIRED = True
    response = client.get("/auth", {"account": Keypair.random().public_key})
    assert response.status_code == 400
    assert "client_domain" in response.json()["error"]


def test_denied_client_domain(client, settings, wallet_site):
    wallet_site.body = f'SIGNING_KEY = "{Keypair.random().public_key}"\n'.encode()
    settings.POLARIS_SEP10_CLIENT_ATTRIBUTION_DENYLIST = [wallet_site.domain]
    account = Keypair.random().public_key
    # Optional attribution: the challenge is issued without the client_domain op.
    assert client_domain_op(get_challenge(client, account, client_domain=wallet_site.domain)) is None

    settings.POLARIS_SEP10_CLIENT_ATTRIBUTION_REQUIRED = True
    response = client.get("/auth", {"account": account, "client_domain": wallet_site.domain})
    assert response.status_code == 403
    assert "not allowed" in response.json()["error"]


def test_allowlist(client, settings, wallet_site):
    wallet_site.body = f'SIGNING_KEY = "{Keypair.random().public_key}"\n'.encode()
    account = Keypair.random().public_key
    settings.POLARIS_SEP10_CLIENT_ATTRIBUTION_ALLOWLIST = ["other.example"]
    assert client_domain_op(get_challenge(client, account, client_domain=wallet_site.domain)) is None
    settings.POLARIS_SEP10_CLIENT_ATTRIBUTION_ALLOWLIST = [wallet_site.domain]
    assert client_domain_op(get_challenge(client, account, client_domain=wallet_site.domain)) is not None
