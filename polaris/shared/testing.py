"""Pytest fixtures for the SEP-6/12/24 tests: a real localnet for POST /auth, wallets with real SEP-10 tokens.

Each tests/conftest.py does ``from polaris.shared.testing import *``.
"""

from dataclasses import dataclass

import pytest
from stellar_sdk import Keypair, MuxedAccount, TransactionEnvelope

from localnet.testing import start
from polaris.models import Asset

PASSPHRASE = "Standalone Network ; February 2017"  # POLARIS_STELLAR_NETWORK_PASSPHRASE in test settings


@pytest.fixture(scope="session")
def localnet_horizon():
    net = start(close_interval=0.5)
    yield net
    net.stop()


@pytest.fixture(autouse=True)
def horizon_setting(localnet_horizon, settings):
    """POST /auth asks Horizon whether the account exists; ours is a real localnet process."""
    settings.POLARIS_HORIZON_URI = localnet_horizon.url


def sep10_token(client, keypair: Keypair, *, memo: int | None = None, muxed_id: int | None = None) -> str:
    """A token from our own /auth: GET the challenge, sign it with the wallet's master key, POST it back."""
    account = MuxedAccount(keypair.public_key, muxed_id).account_muxed if muxed_id is not None else keypair.public_key
    params = {"account": account}
    if memo is not None:
        params["memo"] = str(memo)
    response = client.get("/auth", params)
    assert response.status_code == 200, response.content
    envelope = TransactionEnvelope.from_xdr(response.json()["transaction"], PASSPHRASE)
    envelope.sign(keypair)
    response = client.post("/auth", {"transaction": envelope.to_xdr()}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


@dataclass
class Wallet:
    """A wallet user: the account (and memo or muxed id) and the Authorization header of its token."""

    keypair: Keypair
    token: str
    memo: int | None = None
    muxed_id: int | None = None

    @property
    def account(self) -> str:
        return self.keypair.public_key

    @property
    def auth(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


@pytest.fixture
def make_wallet(client, db):
    def make(keypair: Keypair | None = None, *, memo: int | None = None, muxed_id: int | None = None) -> Wallet:
        keypair = keypair or Keypair.random()
        return Wallet(keypair, sep10_token(client, keypair, memo=memo, muxed_id=muxed_id), memo, muxed_id)

    return make


@pytest.fixture
def wallet(make_wallet) -> Wallet:
    return make_wallet()


@pytest.fixture
def usd(db) -> Asset:
    """An asset on SEP-6 and SEP-24 with fees and limits, and a distribution account."""
    asset = Asset(
        code="USD",
        issuer=Keypair.random().public_key,
        significant_decimals=2,
        deposit_fee_fixed=1,
        deposit_fee_percent=1,
        deposit_min_amount=10,
        deposit_max_amount=10000,
        withdrawal_fee_fixed=2,
        withdrawal_min_amount=5,
        withdrawal_max_amount=5000,
        sep6_enabled=True,
        sep24_enabled=True,
    )
    asset.distribution_seed = Keypair.random().secret
    asset.save()
    return asset
