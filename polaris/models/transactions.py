"""The SEP-6/24/31 transaction: one row per deposit, withdrawal or cross-border payment."""

import uuid
from contextvars import ContextVar

from django.db import models
from django.utils import timezone

from polaris.models.fields import Uint64Field


class StatusChangeRefused(Exception):
    """A bulk write of ``status``, which would skip validation and the status history."""


# True only while write_checked_statuses writes through update().
_writing_checked_statuses: ContextVar[bool] = ContextVar("polaris_writing_checked_statuses", default=False)


class TransactionQuerySet(models.QuerySet):
    """Refuses bulk status writes: use ``polaris.engine.transitions.change_status`` or ``change_status_many``."""

    def update(self, **kwargs):
        if "status" in kwargs and not _writing_checked_statuses.get():
            raise StatusChangeRefused(
                "QuerySet.update(status=...) skips validation; use change_status() or change_status_many()"
            )
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        if "status" in fields:
            raise StatusChangeRefused(
                "bulk_update of status skips validation; use change_status() or change_status_many()"
            )
        return super().bulk_update(objs, fields, *args, **kwargs)

    def write_checked_statuses(self, permit, transactions: list, fields: tuple[str, ...]) -> None:
        """Writes ``fields`` (``status`` among them) of ``transactions``: the way through for
        ``change_status_many`` alone. One ``UPDATE`` per distinct set of values (Django's ``bulk_update``
        builds a CASE per row and field in Python, slower than the round trips it saves).

        It holds ``transitions.STATUS_WRITE_PERMIT`` because it has checked every row under a lock and
        records each change in the same database transaction; any other caller is refused, so the refusals
        above cannot be sidestepped by accident.
        """
        from polaris.engine.transitions import STATUS_WRITE_PERMIT

        if permit is not STATUS_WRITE_PERMIT:
            raise StatusChangeRefused("only polaris.engine.transitions.change_status_many writes status in bulk")
        groups = {}
        for transaction in transactions:
            values = tuple(getattr(transaction, name) for name in fields)
            key = values
            try:
                hash(key)
            except TypeError:  # a JSON value: this row gets an UPDATE of its own
                key = transaction.pk
            groups.setdefault(key, (values, []))[1].append(transaction.pk)
        token = _writing_checked_statuses.set(True)
        try:
            for values, pks in groups.values():
                self.filter(pk__in=pks).update(**dict(zip(fields, values)))
        finally:
            _writing_checked_statuses.reset(token)


def _amount():
    return models.DecimalField(max_digits=30, decimal_places=7, null=True, blank=True)


def _text():
    return models.TextField(null=True, blank=True)


class Transaction(models.Model):
    """A deposit, withdrawal or send, with every field of the SEP-6/24/31 transaction object.

    Status changes are validated against the transitions allowed for the transaction's kind and recorded
    in ``TransactionStatusChange`` in the same database transaction (see ``polaris.engine.transitions``).
    Setting ``status`` and calling ``save()`` goes through that check too, so integration code written for
    django-polaris keeps working and cannot make an invalid move.

    Memo fields: for a deposit, ``memo``/``memo_type`` is the memo the anchor puts on its Stellar payment
    (SEP ``deposit_memo``); for a withdrawal or send it is the memo the payer must attach when paying
    ``receiving_anchor_account`` (SEP ``withdraw_memo`` / ``stellar_memo``). A hash memo is base64.

    The payment engine's bookkeeping (signed envelopes, received payments, cursors, payout marks,
    callbacks) lives in its own tables, not here. There is no default ordering: workers never need one
    and sorting every query costs.
    """

    class KIND(models.TextChoices):
        deposit = "deposit"
        withdrawal = "withdrawal"
        send = "send"
        deposit_exchange = "deposit-exchange"
        withdrawal_exchange = "withdrawal-exchange"

    class STATUS(models.TextChoices):
        incomplete = "incomplete", "incomplete"
        pending_user_transfer_start = "pending_user_transfer_start", "waiting on the user to transfer funds"
        pending_user_transfer_complete = "pending_user_transfer_complete", "funds ready for the user to collect"
        pending_external = "pending_external", "waiting on an external entity"
        pending_anchor = "pending_anchor", "processing"
        on_hold = "on_hold", "on hold"
        pending_stellar = "pending_stellar", "stellar is executing the transaction"
        pending_trust = "pending_trust", "waiting for a trustline to be established"
        pending_user = "pending_user", "waiting on user action"
        pending_customer_info_update = "pending_customer_info_update", "waiting for updated customer information"
        pending_transaction_info_update = (
            "pending_transaction_info_update",
            "waiting for updated transaction information",
        )
        pending_sender = "pending_sender", "awaiting payment to be initiated by the sending anchor"
        pending_receiver = "pending_receiver", "awaiting action from the receiving anchor"
        completed = "completed", "complete"
        refunded = "refunded", "refunded"
        expired = "expired", "expired"
        no_market = "no_market", "no market for the asset"
        too_small = "too_small", "the transaction amount is too small"
        too_large = "too_large", "the transaction amount is too big"
        error = "error", "error"

    class MEMO_TYPE(models.TextChoices):
        text = "text"
        id = "id"
        hash = "hash"

    class PROTOCOL(models.TextChoices):
        sep6 = "sep6"
        sep24 = "sep24"
        sep31 = "sep31"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=KIND.choices, default=KIND.deposit)
    protocol = models.CharField(max_length=5, choices=PROTOCOL.choices, null=True, blank=True)
    status = models.CharField(max_length=40, choices=STATUS.choices)
    status_eta = models.PositiveIntegerField(null=True, blank=True)
    status_message = _text()
    kyc_verified = models.BooleanField(null=True, blank=True)
    more_info_url = _text()

    asset = models.ForeignKey("polaris.Asset", on_delete=models.PROTECT, related_name="transactions")
    quote = models.ForeignKey(
        "polaris.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )

    # Who the transaction belongs to (from the SEP-10 token, or the SEP-31 sending anchor).
    stellar_account = models.CharField(max_length=56, null=True, blank=True)
    muxed_account = models.CharField(max_length=69, null=True, blank=True)
    account_memo = Uint64Field(null=True, blank=True)
    client_domain = _text()

    amount_in = _amount()
    amount_in_asset = _text()
    amount_expected = _amount()
    amount_out = _amount()
    amount_out_asset = _text()
    amount_fee = _amount()
    amount_fee_asset = _text()
    fee_details = models.JSONField(null=True, blank=True)

    from_address = _text()
    to_address = _text()
    external_extra = _text()
    external_extra_text = _text()
    memo = models.CharField(max_length=64, null=True, blank=True)
    memo_type = models.CharField(max_length=10, choices=MEMO_TYPE.choices, default=MEMO_TYPE.text)
    receiving_anchor_account = models.CharField(max_length=69, null=True, blank=True)
    # Where a withdrawal's refund goes back to on Stellar (SEP-6/24 ``refund_memo``/``refund_memo_type``),
    # and how a SEP-6 user funds or receives the off-chain leg (``funding_method``).
    refund_memo = models.CharField(max_length=64, null=True, blank=True)
    refund_memo_type = models.CharField(max_length=10, choices=MEMO_TYPE.choices, null=True, blank=True)
    funding_method = _text()

    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    user_action_required_by = models.DateTimeField(null=True, blank=True)

    stellar_transaction_id = models.CharField(max_length=64, null=True, blank=True)
    external_transaction_id = _text()
    claimable_balance_supported = models.BooleanField(default=False)
    claimable_balance_id = models.CharField(max_length=72, null=True, blank=True)

    refunded = models.BooleanField(default=False)
    refunds = models.JSONField(null=True, blank=True)

    required_info_message = _text()
    required_info_updates = models.JSONField(null=True, blank=True)
    required_customer_info_message = _text()
    required_customer_info_updates = models.JSONField(null=True, blank=True)
    instructions = models.JSONField(null=True, blank=True)

    on_change_callback = _text()

    objects = TransactionQuerySet.as_manager()

    class Meta:
        app_label = "polaris"
        indexes = [
            models.Index(fields=["kind", "status"], name="polaris_tx_kind_status"),
            models.Index(fields=["status", "updated_at"], name="polaris_tx_status_updated"),
            models.Index(
                fields=["receiving_anchor_account", "memo", "memo_type"], name="polaris_tx_receiving_memo"
            ),
            models.Index(fields=["stellar_transaction_id"], name="polaris_tx_stellar_tx_id"),
            models.Index(fields=["stellar_account", "started_at"], name="polaris_tx_account_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    def save(self, *args, **kwargs):
        """Save, validating and recording a status change in the same database transaction."""
        from polaris.engine.transitions import save_transaction

        save_transaction(self, super().save, *args, **kwargs)

    @property
    def message(self) -> str:
        """A human-readable description of the current status (the SEP ``message`` field)."""
        return self.STATUS(self.status).label

    @property
    def fee_asset(self) -> str | None:
        """django-polaris' name for ``amount_fee_asset``, so integrations written for it keep working."""
        return self.amount_fee_asset

    @fee_asset.setter
    def fee_asset(self, value: str | None) -> None:
        self.amount_fee_asset = value
