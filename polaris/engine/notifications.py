"""``on_change_callback`` notifications through an outbox: written with the status change, sent later.

Writing: ``status_changes_recorded`` (sent by ``polaris.engine.transitions`` inside the database transaction
that changes the statuses, once per write, single or batch) adds a ``Callback`` row for each transaction
whose ``on_change_callback`` is a URL, all in one insert, so the notifications commit or roll back with the
changes themselves; ``postMessage`` is the browser's business.
The body is frozen then: the transaction as it was at that change.

Sending: ``send_due_callbacks`` (the ``send_callbacks`` worker) claims due rows -- ``SKIP LOCKED`` on
PostgreSQL, a conditional ``UPDATE`` elsewhere -- by pushing their next attempt one lease ahead, then POSTs
each with SEP-24's ``Signature: t=<unix>, s=<base64 ed25519 of "<t>.<host>.<body>">`` (SIGNING_SEED). A 2xx
delivers it; anything else retries with exponential backoff until ``MAX_ATTEMPTS``. A transaction's
callbacks go out in order: a later one waits while an earlier one is pending. No other worker ever waits
on a wallet.

Delivery is at least once: a sender that dies (or loses its claim) after the wallet answered 2xx and before
the row is marked delivered sends it again. Every POST of one row therefore carries the same body and the
same ``Polaris-Delivery-Id`` header (the row's id), so a wallet can drop repeats.
"""

import json
import logging
import os
import signal
from datetime import timedelta

import requests
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.utils import timezone

from polaris.conf import settings
from polaris.engine.transitions import status_changes_recorded
from polaris.models import Callback, Transaction
from polaris.shared.callbacks import signature_header
from polaris.shared.serializers import transaction_json
from polaris.workers.wakeup import notify

logger = logging.getLogger("polaris.engine.notifications")

CALLBACK_CHANNEL = "polaris_callbacks"
MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(hours=1)
DELIVERY_ID_HEADER = "Polaris-Delivery-Id"
# Test-only crash point: ``POLARIS_CALLBACKS_FAILPOINT=after_post`` makes the sender SIGKILL itself after a
# wallet accepted a callback and before the row is marked delivered, so tests can prove the redelivery.
FAILPOINT_ENV = "POLARIS_CALLBACKS_FAILPOINT"


@receiver(status_changes_recorded, sender=Transaction, dispatch_uid="polaris.engine.notifications.outbox")
def write_callbacks(sender, changes: list, **kwargs) -> None:
    """Adds a callback per change of one write to the outbox, in one insert, in the change's own database
    transaction. A write changes each transaction once, so each transaction's callbacks keep its order."""
    now = timezone.now()
    rows = [
        Callback(
            transaction=transaction,
            url=transaction.on_change_callback,
            body=json.dumps({"transaction": transaction_json(transaction)}),
            next_attempt_at=now,
        )
        for transaction, _change in changes
        if (transaction.on_change_callback or "").lower().startswith(("http://", "https://"))
    ]
    if rows:
        Callback.objects.bulk_create(rows)
        notify(CALLBACK_CHANNEL)


def send_due_callbacks(batch: int = 50, retry_base: float = 1.0) -> int:
    """One pass: claims up to ``batch`` due callbacks and sends each once; returns how many were attempted."""
    sent = 0
    for callback in _claim(batch):
        _send(callback, retry_base)
        sent += 1
    return sent


def _claim(batch: int) -> list[Callback]:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CALLBACK_REQUEST_TIMEOUT * 2 + 5)
    earlier_pending = Callback.objects.filter(
        transaction_id=OuterRef("transaction_id"), id__lt=OuterRef("id"), state=Callback.STATE.pending
    )
    due = (
        Callback.objects.filter(state=Callback.STATE.pending, next_attempt_at__lte=now)
        .exclude(Exists(earlier_pending))
        .order_by("next_attempt_at", "id")
    )
    if connection.vendor == "postgresql":
        with db_transaction.atomic():
            claimed = list(due.select_for_update(skip_locked=True, of=("self",))[:batch])
            Callback.objects.filter(id__in=[c.id for c in claimed]).update(next_attempt_at=lease)
        return claimed
    claimed = []
    for callback in due[:batch]:
        # Conditional on the attempt time we read: of two senders, only one moves it.
        if Callback.objects.filter(id=callback.id, next_attempt_at=callback.next_attempt_at).update(
            next_attempt_at=lease
        ):
            claimed.append(callback)
    return claimed


def _send(callback: Callback, retry_base: float) -> None:
    error = ""
    try:
        response = requests.post(
            callback.url,
            data=callback.body.encode(),
            headers={
                "Content-Type": "application/json",
                "Signature": signature_header(callback.url, callback.body),
                DELIVERY_ID_HEADER: str(callback.id),
            },
            timeout=settings.CALLBACK_REQUEST_TIMEOUT,
            allow_redirects=False,
        )
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    attempts = callback.attempts + 1
    if not error:
        if os.environ.get(FAILPOINT_ENV) == "after_post":
            os.kill(os.getpid(), signal.SIGKILL)
        Callback.objects.filter(id=callback.id).update(
            state=Callback.STATE.delivered, attempts=attempts, delivered_at=timezone.now(), last_error=""
        )
        return
    backoff = min(timedelta(seconds=retry_base * 2 ** (attempts - 1)), MAX_BACKOFF)
    state = Callback.STATE.failed if attempts >= MAX_ATTEMPTS else Callback.STATE.pending
    Callback.objects.filter(id=callback.id).update(
        state=state, attempts=attempts, next_attempt_at=timezone.now() + backoff, last_error=error
    )
    logger.warning("callback %s to %s: %s (attempt %d, %s)", callback.id, callback.url, error, attempts, state)
