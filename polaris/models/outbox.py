"""The callback outbox: one row per ``on_change_callback`` notification, written with the status change."""

from django.db import models


class Callback(models.Model):
    """A signed POST to a wallet's ``on_change_callback`` URL, delivered with retries and backoff.

    ``body`` is the exact JSON text sent (the transaction as it was at that status change), so the
    signature and the wallet see the snapshot of that change, not whatever the transaction became later.
    Callbacks of one transaction are delivered in ``id`` order: a later one waits until the earlier one is
    delivered or has failed for good.
    """

    class STATE(models.TextChoices):
        pending = "pending"
        delivered = "delivered"
        failed = "failed", "gave up after the last attempt"

    transaction = models.ForeignKey("polaris.Transaction", on_delete=models.PROTECT, related_name="callbacks")
    url = models.TextField()
    body = models.TextField()
    state = models.CharField(max_length=10, choices=STATE.choices, default=STATE.pending)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        app_label = "polaris"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="polaris_callback_due"),
            models.Index(fields=["transaction", "id"], name="polaris_callback_tx"),
        ]

    def __str__(self) -> str:
        return f"callback {self.id} for {self.transaction_id}: {self.state}"
