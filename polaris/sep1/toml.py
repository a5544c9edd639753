"""The content of stellar.toml: what Polaris knows (settings, active SEPs, assets), with the anchor's additions.

The anchor adds what only it knows (its organisation, principals, currency descriptions) by registering
a function that returns a dict::

    from polaris.sep1.toml import register_toml_function

    def my_toml() -> dict:
        return {
            "DOCUMENTATION": {"ORG_NAME": "Example Bank", "ORG_URL": "https://bank.example"},
            "CURRENCIES": [{"code": "USDC", "issuer": "G...", "desc": "US dollars", "anchor_asset_type": "fiat"}],
        }

    register_toml_function(my_toml)

It is merged over ours (``merge``): tables merge key by key, a ``CURRENCIES`` entry merges into ours with
the same code and issuer (or is added), any other value replaces ours, and ``None`` removes our key.
"""

from typing import Callable

import tomli_w

from polaris.conf import settings
from polaris.models import Asset

SEP1_VERSION = "2.7.0"
PUBNET_PASSPHRASE = "Public Global Stellar Network ; September 2015"

# The stellar.toml key naming each SEP's server, for the SEPs that have one.
SEP_URL_KEYS = {
    "sep-10": "WEB_AUTH_ENDPOINT",
    "sep-6": "TRANSFER_SERVER",
    "sep-24": "TRANSFER_SERVER_SEP0024",
    "sep-12": "KYC_SERVER",
    "sep-31": "DIRECT_PAYMENT_SERVER",
    "sep-38": "ANCHOR_QUOTE_SERVER",
}

_toml_function: Callable[[], dict] | None = None


def register_toml_function(function: Callable[[], dict] | None) -> None:
    """Register the anchor's additions (None unregisters). Called on every request, so it can read the DB."""
    global _toml_function
    _toml_function = function


def _currency(asset: Asset, status: str) -> dict:
    return {
        "code": asset.code,
        "issuer": asset.issuer,
        "status": status,
        "display_decimals": asset.significant_decimals,
        "is_asset_anchored": True,
        "anchor_asset_type": "fiat",
        "desc": f"{asset.code}, deposited and withdrawn through this anchor",
    }


def default_toml() -> dict:
    """What Polaris can say by itself."""
    from polaris.urls import sep_url  # polaris.urls imports this module's views

    active = settings.ACTIVE_SEPS
    toml: dict = {"VERSION": SEP1_VERSION, "NETWORK_PASSPHRASE": settings.STELLAR_NETWORK_PASSPHRASE}
    if settings.SIGNING_KEY:
        toml["SIGNING_KEY"] = settings.SIGNING_KEY
    for sep, key in SEP_URL_KEYS.items():
        if sep in active:
            toml[key] = sep_url(sep)

    assets = list(Asset.objects.order_by("code", "issuer"))
    accounts = sorted({asset.distribution_account for asset in assets if asset.distribution_account})
    if accounts:
        toml["ACCOUNTS"] = accounts
    toml["DOCUMENTATION"] = {"ORG_NAME": settings.SEP10_HOME_DOMAINS[0], "ORG_URL": settings.HOST_URL}
    status = "live" if settings.STELLAR_NETWORK_PASSPHRASE == PUBNET_PASSPHRASE else "test"
    if assets:
        toml["CURRENCIES"] = [_currency(asset, status) for asset in assets]
    return toml


def _merge_currencies(ours: list[dict], theirs: list[dict]) -> list[dict]:
    merged = [dict(currency) for currency in ours]
    for currency in theirs:
        match = next(
            (m for m in merged if (m.get("code"), m.get("issuer")) == (currency.get("code"), currency.get("issuer"))),
            None,
        )
        if match is None:
            merged.append(dict(currency))
        else:
            match.update(currency)
    return merged


def merge(ours: dict, theirs: dict) -> dict:
    """The anchor's dict over ours, as the module docstring describes."""
    merged = dict(ours)
    for key, value in theirs.items():
        if value is None:
            merged.pop(key, None)
        elif key == "CURRENCIES" and isinstance(value, list):
            merged[key] = _merge_currencies(ours.get(key, []), value)
        elif isinstance(value, dict) and isinstance(ours.get(key), dict):
            merged[key] = {**ours[key], **value}
        else:
            merged[key] = value
    return merged


def stellar_toml() -> dict:
    toml = default_toml()
    if _toml_function is not None:
        toml = merge(toml, _toml_function())
    return toml


def render() -> str:
    """stellar.toml as text. Top-level keys come before tables, as TOML requires; tomli_w handles that."""
    return tomli_w.dumps(stellar_toml())
