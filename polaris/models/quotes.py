"""SEP-38 quotes and the off-chain assets, delivery methods and pairs they are priced between."""

import uuid

from django.db import models

from polaris.models.fields import Uint64Field


class DeliveryMethod(models.Model):
    """A way to deliver an off-chain asset: ``sell`` (the user pays the anchor) or ``buy`` (the anchor pays)."""

    class TYPE(models.TextChoices):
        buy = "buy"
        sell = "sell"

    type = models.CharField(max_length=4, choices=TYPE.choices)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")

    class Meta:
        app_label = "polaris"
        constraints = [models.UniqueConstraint(fields=["name", "type"], name="polaris_delivery_method_name_type")]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


class OffChainAsset(models.Model):
    """An asset outside Stellar, such as ``iso4217:USD``."""

    scheme = models.CharField(max_length=30)
    identifier = models.CharField(max_length=100)
    significant_decimals = models.PositiveSmallIntegerField(default=2)
    country_codes = models.JSONField(default=list, blank=True, help_text="ISO 3166 alpha-3 codes")
    delivery_methods = models.ManyToManyField(DeliveryMethod, blank=True, related_name="assets")
    symbol = models.CharField(max_length=10, default="$")

    class Meta:
        app_label = "polaris"
        constraints = [
            models.UniqueConstraint(fields=["scheme", "identifier"], name="polaris_offchain_asset_scheme_id")
        ]

    def __str__(self) -> str:
        return self.asset_identification_format

    @property
    def asset_identification_format(self) -> str:
        return f"{self.scheme}:{self.identifier}"


class ExchangePair(models.Model):
    """One direction in which the anchor exchanges two assets (SEP-38 names); the reverse is its own row."""

    sell_asset = models.CharField(max_length=200)
    buy_asset = models.CharField(max_length=200)

    class Meta:
        app_label = "polaris"
        constraints = [
            models.UniqueConstraint(fields=["sell_asset", "buy_asset"], name="polaris_exchange_pair_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sell_asset} -> {self.buy_asset}"


class Quote(models.Model):
    """A SEP-38 quote: firm (binding until ``expires_at``) or indicative (saved from SEP-6/31 requests)."""

    class TYPE(models.TextChoices):
        firm = "firm"
        indicative = "indicative"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=10, choices=TYPE.choices)
    stellar_account = models.CharField(max_length=56)
    muxed_account = models.CharField(max_length=69, null=True, blank=True)
    account_memo = Uint64Field(null=True, blank=True)

    sell_asset = models.CharField(max_length=200)
    buy_asset = models.CharField(max_length=200)
    sell_amount = models.DecimalField(max_digits=30, decimal_places=7)
    buy_amount = models.DecimalField(max_digits=30, decimal_places=7, null=True, blank=True)
    price = models.DecimalField(max_digits=30, decimal_places=7, null=True, blank=True)
    total_price = models.DecimalField(max_digits=30, decimal_places=7, null=True, blank=True)
    fee = models.JSONField(null=True, blank=True, help_text="SEP-38 fee object: total, asset, details")
    sell_delivery_method = models.ForeignKey(
        DeliveryMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    buy_delivery_method = models.ForeignKey(
        DeliveryMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    country_code = models.CharField(max_length=3, null=True, blank=True)
    requested_expire_after = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "polaris"

    def __str__(self) -> str:
        return f"{self.type} quote {self.id}"
