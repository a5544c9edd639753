"""GET /.well-known/stellar.toml (§14 checks 1-3), the anchor's hook, and which SEPs get mounted."""

import tomllib

import pytest
from django.urls import URLResolver
from stellar_sdk import Keypair, StrKey

from polaris.models import Asset
from polaris.sep1.toml import merge, register_toml_function
from polaris.urls import sep_urlpatterns

pytestmark = pytest.mark.django_db
SIGNING_KEY = Keypair.from_secret("SD7JC7M3K5C2RGEMTU72HR3UKV6RJFBHCC3SNBB65PVC27NKERQFVILK").public_key
ISSUER = Keypair.random().public_key
URL_KEYS = {
    "sep-10": "WEB_AUTH_ENDPOINT",
    "sep-6": "TRANSFER_SERVER",
    "sep-24": "TRANSFER_SERVER_SEP0024",
    "sep-12": "KYC_SERVER",
    "sep-31": "DIRECT_PAYMENT_SERVER",
    "sep-38": "ANCHOR_QUOTE_SERVER",
}


@pytest.fixture(autouse=True)
def no_hook():
    yield
    register_toml_function(None)


def fetch(client) -> dict:
    response = client.get("/.well-known/stellar.toml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert len(response.content) < 100 * 1024
    return tomllib.loads(response.content.decode("utf-8"))


def test_served_with_every_active_sep(client):
    toml = fetch(client)
    assert toml["NETWORK_PASSPHRASE"] == "Standalone Network ; February 2017"
    assert toml["SIGNING_KEY"] == SIGNING_KEY and StrKey.is_valid_ed25519_public_key(toml["SIGNING_KEY"])
    assert toml["VERSION"] == "2.7.0"
    for key in URL_KEYS.values():
        assert toml[key].startswith("http://testserver/") and not toml[key].endswith("/"), key
    assert toml["WEB_AUTH_ENDPOINT"] == "http://testserver/auth"
    assert toml["DOCUMENTATION"] == {"ORG_NAME": "testserver", "ORG_URL": "http://testserver"}
    assert "CURRENCIES" not in toml and "ACCOUNTS" not in toml


def test_web_auth_endpoint_serves_challenges(client):
    endpoint = fetch(client)["WEB_AUTH_ENDPOINT"].removeprefix("http://testserver")
    assert client.get(endpoint, {"account": Keypair.random().public_key}).status_code == 200


def test_only_active_seps(client, settings):
    settings.POLARIS_ACTIVE_SEPS = ["sep-1", "sep-10", "sep-24"]
    toml = fetch(client)
    present = {key for key in URL_KEYS.values() if key in toml}
    assert present == {"WEB_AUTH_ENDPOINT", "TRANSFER_SERVER_SEP0024"}
    assert "DOCUMENTATION" in toml


def test_public_network_and_https(client, settings):
    settings.POLARIS_STELLAR_NETWORK_PASSPHRASE = "Public Global Stellar Network ; September 2015"
    settings.POLARIS_HOST_URL = "https://anchor.example"
    settings.POLARIS_LOCAL_MODE = False
    Asset.objects.create(code="USD", issuer=ISSUER)
    toml = fetch(client)
    assert toml["NETWORK_PASSPHRASE"] == "Public Global Stellar Network ; September 2015"
    assert toml["TRANSFER_SERVER_SEP0024"] == "https://anchor.example/sep24"
    assert toml["CURRENCIES"][0]["status"] == "live"


def test_currencies_and_accounts(client):
    distribution = Keypair.random().public_key
    Asset.objects.create(code="USD", issuer=ISSUER, significant_decimals=2, distribution_account=distribution)
    Asset.objects.create(code="ETH", issuer=ISSUER, significant_decimals=7, distribution_account=distribution)
    Asset.objects.create(code="EUR", issuer=ISSUER)
    toml = fetch(client)
    assert toml["ACCOUNTS"] == [distribution]
    assert [c["code"] for c in toml["CURRENCIES"]] == ["ETH", "EUR", "USD"]
    usd = toml["CURRENCIES"][2]
    assert usd == {
        "code": "USD",
        "issuer": ISSUER,
        "status": "test",
        "display_decimals": 2,
        "is_asset_anchored": True,
        "anchor_asset_type": "fiat",
        "desc": "USD, deposited and withdrawn through this anchor",
    }
    assert toml["CURRENCIES"][0]["display_decimals"] == 7


def test_anchor_hook_is_merged_over_ours(client):
    Asset.objects.create(code="USD", issuer=ISSUER)
    other_issuer = Keypair.random().public_key

    def anchor_toml():
        return {
            "DOCUMENTATION": {"ORG_NAME": "Example Bank", "ORG_SUPPORT_EMAIL": "help@bank.example"},
            "CURRENCIES": [
                {"code": "USD", "issuer": ISSUER, "desc": "US dollars held at Example Bank", "name": "US Dollar"},
                {"code": "GOLD", "issuer": other_issuer, "status": "test", "anchor_asset_type": "commodity"},
            ],
            "PRINCIPALS": [{"name": "Jane Doe", "email": "jane@bank.example"}],
            "VERSION": None,
            "KYC_SERVER": "https://kyc.bank.example",
        }

    register_toml_function(anchor_toml)
    toml = fetch(client)
    assert toml["DOCUMENTATION"] == {
        "ORG_NAME": "Example Bank",
        "ORG_URL": "http://testserver",
        "ORG_SUPPORT_EMAIL": "help@bank.example",
    }
    usd, gold = toml["CURRENCIES"]
    assert usd["desc"] == "US dollars held at Example Bank" and usd["name"] == "US Dollar"
    assert usd["is_asset_anchored"] is True and usd["status"] == "test"
    assert gold == {"code": "GOLD", "issuer": other_issuer, "status": "test", "anchor_asset_type": "commodity"}
    assert toml["PRINCIPALS"] == [{"name": "Jane Doe", "email": "jane@bank.example"}]
    assert "VERSION" not in toml
    assert toml["KYC_SERVER"] == "https://kyc.bank.example"


def test_merge_leaves_both_inputs_alone():
    ours = {"DOCUMENTATION": {"ORG_NAME": "a"}, "CURRENCIES": [{"code": "X", "issuer": "I", "desc": "d"}]}
    theirs = {"DOCUMENTATION": {"ORG_URL": "u"}, "CURRENCIES": [{"code": "X", "issuer": "I", "desc": "e"}]}
    merged = merge(ours, theirs)
    assert merged["CURRENCIES"] == [{"code": "X", "issuer": "I", "desc": "e"}]
    assert ours == {"DOCUMENTATION": {"ORG_NAME": "a"}, "CURRENCIES": [{"code": "X", "issuer": "I", "desc": "d"}]}


def test_only_get(client):
    response = client.post("/.well-known/stellar.toml")
    assert response.status_code == 405
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.options("/.well-known/stellar.toml")["Access-Control-Allow-Origin"] == "*"


def test_mounting_follows_active_seps():
    def routes(patterns) -> list[str]:
        return [str(p.pattern) for p in patterns if isinstance(p, URLResolver)]

    assert routes(sep_urlpatterns(["sep-1", "sep-10"])) == [".well-known/", "auth"]
    assert routes(sep_urlpatterns(["sep-10"])) == ["auth"]
    assert routes(sep_urlpatterns([])) == []
