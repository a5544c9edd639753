"""The append-only record of every transaction status change, and the base of every append-only record."""

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """History rows are never updated or deleted."""


def _refuse(model) -> None:
    raise AppendOnlyError(f"{model._meta.verbose_name_plural} are append-only")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model)

    def delete(self):
        _refuse(self.model)


class AppendOnly(models.Model):
    """An audit record: rows are added, never updated or deleted (not even through a QuerySet)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self))


class TransactionStatusChange(AppendOnly):
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

    class Meta:
        app_label = "polaris"
        indexes = [models.Index(fields=["transaction", "at"], name="polaris_status_change_tx_at")]

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.from_status} -> {self.to_status} by {self.actor}"
