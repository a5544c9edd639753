"""The payout of each received withdrawal or send: queued, claimed, started, then done or parked.

Invariant 2 (``execute_outgoing_transaction`` runs at most once per transaction) rests on this table:
one row per transaction (unique), and the integration is called only by the worker whose conditional
``claimed -> started`` update committed. ``started`` never goes back to ``queued`` by itself: a row left
``started`` by a crash, or whose call raised or left the status unchanged, becomes ``parked`` for a person.
Only that person sends a ``parked`` row back to ``queued`` (``polaris.engine.payouts.release_parked_payout``),
and each such release is kept as a ``PayoutRelease``.
"""

from django.db import models
from django.utils import timezone

from polaris.models.history import AppendOnly


class Payout(models.Model):
    class STATE(models.TextChoices):
        queued = "queued", "waiting for execute_outgoing_transactions"
        claimed = "claimed", "claimed by a worker, not started (safe to queue again if the worker died)"
        started = "started", "execute_outgoing_transaction was called; no outcome recorded yet"
        done = "done", "execute_outgoing_transaction returned and moved the transaction on"
        parked = "parked", "needs a person: the call raised, changed nothing, or its worker died"

    transaction = models.OneToOneField("polaris.Transaction", on_delete=models.PROTECT, related_name="payout")
    state = models.CharField(max_length=10, choices=STATE.choices, default=STATE.queued)
    queued_at = models.DateTimeField(auto_now_add=True)
    ledger_closed_at = models.DateTimeField(
        null=True, blank=True, help_text="close time of the ledger holding the payment (for latency)"
    )
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_after = models.CharField(max_length=40, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        app_label = "polaris"
        indexes = [models.Index(fields=["state", "queued_at"], name="polaris_payout_state")]

    def __str__(self) -> str:
        return f"payout of {self.transaction_id}: {self.state}"


class PayoutRelease(AppendOnly):
    """A person sent a parked payout back to the queue for one more execution: who, when, and the attempt
    that had parked it (the payout row's own attempt fields are cleared so that it can be claimed again)."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="releases")
    released_by = models.CharField(max_length=200, help_text="who confirmed the bank has no payment for it")
    released_at = models.DateTimeField(default=timezone.now)
    parked_error = models.TextField(help_text="why the attempt was parked")
    parked_worker = models.CharField(max_length=100, blank=True, default="")
    parked_started_at = models.DateTimeField(null=True, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "polaris"

    def __str__(self) -> str:
        return f"payout of {self.payout.transaction_id} released by {self.released_by}"
