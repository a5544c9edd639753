"""The deposit side of the payment engine: signed Stellar envelopes, what they pay, and channel accounts.

The engine's exactly-once rule for deposits rests on three tables:

* ``StellarSubmission``: every envelope the engine signs is committed here (XDR, hash, max time) *before*
  it is sent to Horizon. Until it is resolved (found on the ledger, rejected, or expired past its max time)
  it stays ``pending``, and nothing else may pay its deposits.
* ``DepositPayment``: which deposits an envelope pays, and at which operation. A partial unique index allows
  at most one *active* row per deposit, so even two workers that both built an envelope for the same deposit
  cannot both commit it. A row stops being active only when its envelope can no longer be applied.
* ``QueuedDeposit``: the deposits handed to the engine for payment (their funds arrived). ``pending_anchor``
  alone does not mean "pay it": integrations use that status for their own processing too.
* ``PendingAfterDeposit``: completed deposits whose ``DepositIntegration.after_deposit`` call is still owed.

``ChannelAccount`` holds the accounts used as transaction sources so that envelopes can be submitted in
parallel (each source account has one sequence number); the distribution account is each operation's source.
"""

from django.db import models
from django.db.models import Q
from stellar_sdk import Keypair

from polaris.models import encryption

CHANNEL_SEED_PURPOSE = "polaris.ChannelAccount.seed"


class ChannelAccount(models.Model):
    """A Stellar account the engine created to be the source of deposit transactions.

    Its seed is encrypted at rest like distribution seeds. A channel is busy while it is the source of a
    pending submission (enforced by a partial unique index on ``StellarSubmission``).
    """

    account = models.CharField(max_length=56, unique=True)
    distribution_account = models.CharField(max_length=56, db_index=True)
    encrypted_seed = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "polaris"

    def __str__(self) -> str:
        return f"channel {self.account} of {self.distribution_account}"

    @property
    def seed(self) -> str:
        cached = getattr(self, "_seed_cache", None)
        if cached is None or cached[0] != self.encrypted_seed:
            cached = (self.encrypted_seed, encryption.decrypt(self.encrypted_seed, CHANNEL_SEED_PURPOSE))
            self._seed_cache = cached
        return cached[1]

    @seed.setter
    def seed(self, seed: str) -> None:
        self.account = Keypair.from_secret(seed).public_key
        self.encrypted_seed = encryption.encrypt(seed, CHANNEL_SEED_PURPOSE)
        self._seed_cache = (self.encrypted_seed, seed)


class StellarSubmission(models.Model):
    """One signed envelope, committed before it is submitted, resolved by its hash afterwards.

    ``pending`` covers both "about to be submitted" and "outcome unknown" (a timeout, a 5xx, a crash): in
    both cases the envelope may still land, so its deposits stay claimed. It leaves ``pending`` only when
    Horizon shows it in a ledger (``succeeded`` or ``failed``), when Horizon rejected it outright with
    result codes (``rejected``), or when the network's ledger close time has passed ``max_time`` and a last
    lookup still does not find it (``expired``).
    """

    class STATE(models.TextChoices):
        pending = "pending"
        succeeded = "succeeded"
        failed = "failed"
        rejected = "rejected"
        expired = "expired"

    class PURPOSE(models.TextChoices):
        deposits = "deposits"
        channels = "channels"

    hash = models.CharField(max_length=64, unique=True)
    envelope_xdr = models.TextField()
    purpose = models.CharField(max_length=10, choices=PURPOSE.choices, default=PURPOSE.deposits)
    source_account = models.CharField(max_length=56)
    channel = models.ForeignKey(
        ChannelAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    distribution_account = models.CharField(max_length=56)
    max_time = models.BigIntegerField(help_text="unix time after which the network will not apply it")
    fee_per_op = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=STATE.choices, default=STATE.pending)
    ledger = models.PositiveIntegerField(null=True, blank=True)
    result_codes = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "polaris"
        indexes = [models.Index(fields=["state", "created_at"], name="polaris_submission_state")]
        constraints = [
            # A channel's sequence number can serve one envelope at a time.
            models.UniqueConstraint(
                fields=["channel"], condition=Q(state="pending"), name="polaris_submission_one_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.hash[:12]} ({self.state})"


class DepositPayment(models.Model):
    """The operations of a submission that pay one deposit.

    ``op_index``/``op_count`` locate them in the envelope (a new account gets ``create_account`` followed by
    ``create_claimable_balance``). ``completes`` is False when the operations only create the account and
    the deposit must then wait in ``pending_trust``.

    Invariant (a partial unique index): at most one active row per deposit. A row is deactivated only when
    its envelope can no longer pay the deposit (rejected, expired, failed) or when it only created the
    account; a row of a succeeded envelope that paid the deposit stays active forever, so the deposit can
    never be put in a second envelope.
    """

    submission = models.ForeignKey(StellarSubmission, on_delete=models.PROTECT, related_name="payments")
    transaction = models.ForeignKey(
        "polaris.Transaction", on_delete=models.PROTECT, related_name="stellar_payments"
    )
    op_index = models.PositiveSmallIntegerField()
    op_count = models.PositiveSmallIntegerField(default=1)
    claimable_balance = models.BooleanField(default=False)
    completes = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        app_label = "polaris"
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"], condition=Q(active=True), name="polaris_deposit_one_active_payment"
            )
        ]


class QueuedDeposit(models.Model):
    """A deposit whose off-chain funds arrived: the engine owns its Stellar payment until it completes."""

    transaction = models.OneToOneField(
        "polaris.Transaction", on_delete=models.CASCADE, primary_key=True, related_name="deposit_queue"
    )
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "polaris"


class PendingAfterDeposit(models.Model):
    """A completed deposit whose ``DepositIntegration.after_deposit`` is still to be called.

    Written in the database transaction that completes the deposit, so the call is owed exactly when the
    completion is committed, and a worker that dies before calling leaves the row for the next one. Deleted
    once the call returned or raised.
    """

    transaction = models.OneToOneField(
        "polaris.Transaction", on_delete=models.CASCADE, primary_key=True, related_name="pending_after_deposit"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "polaris"
