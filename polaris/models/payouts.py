"""The payout of each received withdrawal or send: queued, claimed, started, then done or parked.

Invariant 2 (``execute_outgoing_transaction`` runs at most once per transaction) rests on this table:
one row per transaction (unique), and the integration is called only by the worker whose conditional
``claimed -> started`` update committed. ``started`` never goes back to ``queued`` by itself: a row left
``started`` by a crash, or whose call raised or left the status unchanged, becomes ``parked`` for a person.
"""

from django.db import models


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
