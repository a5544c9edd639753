"""The append-only record of every transaction status change."""

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """History rows are never updated or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("transaction status history is append-only")

    def delete(self):
        raise AppendOnlyError("transaction status history is append-only")


class TransactionStatusChange(models.Model):
    """One status change: from which status (``None`` at creation) to which, when, by whom, and why.

    ``actor`` names the worker or integration that made the change (for example
    ``execute_outgoing_transactions`` or ``admin:alice``). Rows are written by
    ``polaris.engine.transitions`` in the same database transaction as the change itself.
    """

    transaction = models.ForeignKey(
        "polaris.Transaction", on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=40, null=True, blank=True)
    to_status = models.CharField(max_length=40)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    reason = models.TextField(blank=True, default="")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        app_label = "polaris"
        indexes = [models.Index(fields=["transaction", "at"], name="polaris_status_change_tx_at")]

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.from_status} -> {self.to_status} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("transaction status history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("transaction status history is append-only")
