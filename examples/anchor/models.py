"""The demo anchor's own table: the customers SEP-12 stores, so SEP-6 transfers can check KYC."""

from django.db import models

# The SEP-9 fields the demo asks every customer for.
KYC_FIELDS = {
    "first_name": "Your first name",
    "last_name": "Your last name",
    "email_address": "Your email address",
}


class Customer(models.Model):
    """One customer per Stellar account and memo (SEP-12's identity); a missing field means not given yet."""

    stellar_account = models.CharField(max_length=56)
    memo = models.CharField(max_length=64, null=True, blank=True)
    first_name = models.TextField(blank=True, default="")
    last_name = models.TextField(blank=True, default="")
    email_address = models.TextField(blank=True, default="")

    class Meta:
        app_label = "anchor"
        constraints = [
            models.UniqueConstraint(fields=["stellar_account", "memo"], name="anchor_customer_account_memo"),
            models.UniqueConstraint(
                fields=["stellar_account"], condition=models.Q(memo__isnull=True), name="anchor_customer_account_no_memo"
            ),
        ]

    def missing_fields(self) -> list[str]:
        return [name for name in KYC_FIELDS if not getattr(self, name)]
