"""Issues the demo's asset on the network the anchor points at and registers it with Polaris.

A real anchor issues its asset once, with keys it guards; the demo does the same steps with fresh keys
through the network's friendbot: fund an issuer and a distribution account, trust the asset from the
distribution account, and move the supply to it. Running it again finds the Asset and does nothing.
"""

from decimal import Decimal

import requests
from stellar_sdk import Asset as StellarAsset
from stellar_sdk import Keypair, Network, Server, TransactionBuilder

from polaris.conf import settings
from polaris.models import Asset

DEMO_SUPPLY = Decimal("1000000")


def ensure_demo_asset(code: str = "USDC") -> Asset:
    existing = Asset.objects.filter(code=code).first()
    if existing is not None:
        return existing
    issuer, distribution = Keypair.random(), Keypair.random()
    for account in (issuer, distribution):
        response = requests.get(f"{settings.HORIZON_URI}/friendbot", params={"addr": account.public_key}, timeout=30)
        response.raise_for_status()

    server = Server(settings.HORIZON_URI)
    stellar_asset = StellarAsset(code, issuer.public_key)
    envelope = (
        TransactionBuilder(
            server.load_account(distribution.public_key),
            network_passphrase=settings.STELLAR_NETWORK_PASSPHRASE,
            base_fee=100,
        )
        .append_change_trust_op(stellar_asset)
        .append_payment_op(distribution.public_key, stellar_asset, str(DEMO_SUPPLY), source=issuer.public_key)
        .set_timeout(120)
        .build()
    )
    envelope.sign(distribution)
    envelope.sign(issuer)
    server.submit_transaction(envelope)

    asset = Asset(
        code=code,
        issuer=issuer.public_key,
        significant_decimals=2,
        sep6_enabled=True,
        sep24_enabled=True,
        deposit_fee_fixed=Decimal("0"),
        withdrawal_fee_fixed=Decimal("0"),
    )
    asset.distribution_seed = distribution.secret
    asset.save()
    return asset
