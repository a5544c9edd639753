"""Stellar assets the anchor issues or handles, with their fees, limits and distribution account."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from stellar_sdk import Asset as StellarAsset
from stellar_sdk import Keypair

from polaris.models import encryption

SEED_PURPOSE = "polaris.Asset.distribution_seed"


def _amount(**kwargs):
    return models.DecimalField(max_digits=30, decimal_places=7, null=True, blank=True, **kwargs)


def _percent():
    return _amount(validators=[MinValueValidator(0), MaxValueValidator(100)])


class Asset(models.Model):
    """A Stellar asset, identified by (code, issuer).

    Native XLM is deliberately not representable (``issuer`` is required): anchors deposit and withdraw
    their own issued assets, and every lookup can then use (code, issuer) without a special case.

    ``distribution_seed`` is a Python property backed by the encrypted column
    ``encrypted_distribution_seed``; it is decrypted only when read. ``distribution_account`` is stored in
    clear and indexed so workers can find an asset by account without touching the secret. Setting the
    seed sets the account; an asset held by an external custodian has an account and no seed.

    Fee and limit columns are ``NULL`` when unset: no fee, no minimum, no maximum.
    """

    code = models.CharField(max_length=12)
    issuer = models.CharField(max_length=56)
    significant_decimals = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(7)])
    symbol = models.CharField(max_length=10, default="$")

    deposit_enabled = models.BooleanField(default=True)
    deposit_fee_fixed = _amount()
    deposit_fee_percent = _percent()
    deposit_min_amount = _amount()
    deposit_max_amount = _amount()

    withdrawal_enabled = models.BooleanField(default=True)
    withdrawal_fee_fixed = _amount()
    withdrawal_fee_percent = _percent()
    withdrawal_min_amount = _amount()
    withdrawal_max_amount = _amount()

    send_fee_fixed = _amount()
    send_fee_percent = _percent()
    send_min_amount = _amount()
    send_max_amount = _amount()

    sep6_enabled = models.BooleanField(default=False)
    sep24_enabled = models.BooleanField(default=False)
    sep31_enabled = models.BooleanField(default=False)
    sep38_enabled = models.BooleanField(default=False)

    encrypted_distribution_seed = models.TextField(null=True, blank=True, editable=False)
    distribution_account = models.CharField(max_length=56, null=True, blank=True, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "polaris"
        constraints = [models.UniqueConstraint(fields=["code", "issuer"], name="polaris_asset_code_issuer")]

    def __str__(self) -> str:
        return f"{self.code}:{self.issuer}"

    @property
    def distribution_seed(self) -> str | None:
        stored = self.encrypted_distribution_seed
        if stored is None:
            return None
        cached = getattr(self, "_seed_cache", None)
        if cached is None or cached[0] != stored:
            cached = (stored, encryption.decrypt(stored, SEED_PURPOSE))
            self._seed_cache = cached
        return cached[1]

    @distribution_seed.setter
    def distribution_seed(self, seed: str | None) -> None:
        if seed is None:
            self.encrypted_distribution_seed = None
            return
        self.distribution_account = Keypair.from_secret(seed).public_key
        self.encrypted_distribution_seed = encryption.encrypt(seed, SEED_PURPOSE)
        self._seed_cache = (self.encrypted_distribution_seed, seed)

    @property
    def asset_identification_format(self) -> str:
        """The SEP-38 name of this asset."""
        return f"stellar:{self.code}:{self.issuer}"

    def to_stellar_asset(self) -> StellarAsset:
        return StellarAsset(self.code, self.issuer)
