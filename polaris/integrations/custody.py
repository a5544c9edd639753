"""Who holds the keys of the distribution accounts, and signs with them."""

from stellar_sdk import Keypair, TransactionEnvelope

from polaris.models import Asset


class CustodyError(Exception):
    """The custody integration cannot provide an account or a signature for this asset."""


class CustodyIntegration:
    """Key custody for distribution accounts. The engine builds and submits Stellar transactions; custody
    only names each asset's distribution account and signs envelopes for it, so a third-party custodian
    (or an HSM) can replace the default without touching the payment engine."""

    def get_distribution_account(self, asset: Asset) -> str:
        """The account that pays deposits of ``asset`` and receives its withdrawals and sends."""
        raise NotImplementedError

    def sign_envelope(self, asset: Asset, envelope: TransactionEnvelope) -> TransactionEnvelope:
        """Add the distribution account's signature for ``asset`` to ``envelope`` and return it."""
        raise NotImplementedError

    @property
    def account_creation_supported(self) -> bool:
        """Whether deposits to accounts that do not exist yet may create them."""
        return False

    @property
    def claimable_balances_supported(self) -> bool:
        """Whether deposits to accounts without a trustline may be sent as claimable balances."""
        return False


class SelfCustodyIntegration(CustodyIntegration):
    """The default: the anchor holds each asset's distribution seed, encrypted in the database."""

    def get_distribution_account(self, asset: Asset) -> str:
        if not asset.distribution_account:
            raise CustodyError(f"asset {asset} has no distribution account")
        return asset.distribution_account

    def sign_envelope(self, asset: Asset, envelope: TransactionEnvelope) -> TransactionEnvelope:
        seed = asset.distribution_seed
        if not seed:
            raise CustodyError(f"asset {asset} has no distribution seed to sign with")
        keypair = Keypair.from_secret(seed)
        if keypair.public_key != asset.distribution_account:
            raise CustodyError(f"asset {asset}: the distribution seed does not match distribution_account")
        envelope.sign(keypair)
        return envelope

    @property
    def account_creation_supported(self) -> bool:
        return True

    @property
    def claimable_balances_supported(self) -> bool:
        return True
