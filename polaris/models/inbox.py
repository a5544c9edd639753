"""The watcher's inbox of payments received by distribution accounts, and its per-account stream cursors.

Invariant 3 (every payment that reaches a distribution account is recorded exactly once, matched or kept
for review) rests on two facts written here: ``ReceivedPayment.operation_id`` is unique, so a replayed
stream record can never be recorded twice; and ``StreamCursor`` is advanced in the same database transaction
that records the payment, so a record is never skipped (the cursor never moves past an unrecorded record).
"""

from django.db import models


class ReceivedPayment(models.Model):
    """One payment operation to a distribution account, as Horizon reported it.

    ``matched`` rows point at the withdrawal or send they paid. ``unmatched`` rows are money a person must
    look at (and usually refund): no transaction had that memo or muxed id, the asset was wrong, the amount
    was short, the transaction was already paid, or the Stellar transaction failed. ``reason`` says which.
    """

    class STATUS(models.TextChoices):
        matched = "matched"
        unmatched = "unmatched"

    class REASON(models.TextChoices):
        none = "", "matched"
        no_transaction = "no_transaction", "no withdrawal or send waits for this memo or muxed id"
        ambiguous = "ambiguous", "more than one transaction waits for this memo"
        wrong_asset = "wrong_asset", "the asset is not the transaction's asset"
        amount_below_expected = "amount_below_expected", "less than the transaction's amount_expected"
        already_paid = "already_paid", "the transaction was already paid"
        not_awaiting = "not_awaiting", "the transaction is not waiting for a payment"
        failed = "failed", "the Stellar transaction failed"
        not_received = "not_received", "the operation does not credit this account"

    operation_id = models.CharField(max_length=32, unique=True)
    account = models.CharField(max_length=56, help_text="the distribution account whose stream reported it")
    transaction_hash = models.CharField(max_length=64)
    operation_type = models.CharField(max_length=40)
    successful = models.BooleanField()
    from_address = models.CharField(max_length=69, null=True, blank=True)
    to_address = models.CharField(max_length=69, help_text="the destination, muxed (M...) when it was muxed")
    asset_type = models.CharField(max_length=20)
    asset_code = models.CharField(max_length=12, null=True, blank=True)
    asset_issuer = models.CharField(max_length=56, null=True, blank=True)
    amount = models.DecimalField(max_digits=30, decimal_places=7, help_text="the amount credited, exactly")
    memo = models.TextField(null=True, blank=True)
    memo_type = models.CharField(max_length=10)
    ledger_closed_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(max_length=10, choices=STATUS.choices)
    reason = models.CharField(max_length=30, choices=REASON.choices, blank=True, default="")
    transaction = models.ForeignKey(
        "polaris.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="received_payments"
    )
    record = models.JSONField(help_text="Horizon's record, without links, for review and refunds")

    class Meta:
        app_label = "polaris"
        indexes = [models.Index(fields=["status", "received_at"], name="polaris_inbox_status")]

    def __str__(self) -> str:
        return f"op {self.operation_id}: {self.amount} {self.asset_code or 'XLM'} ({self.status} {self.reason})"


class StreamCursor(models.Model):
    """Where the payments stream of one distribution account resumes: the last recorded paging token."""

    account = models.CharField(max_length=56, unique=True)
    cursor = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "polaris"

    def __str__(self) -> str:
        return f"{self.account} @ {self.cursor}"
