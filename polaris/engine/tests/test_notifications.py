"""The callback outbox: written with the status change, delivered signed to a real HTTP server, retried;
``send_callbacks`` as real processes: SIGKILL after the wallet accepted a callback, two senders at once.

Delivery is at least once, not exactly once: a sender that dies between the wallet's 2xx and marking the
row delivered sends that callback again. Every attempt of one row carries the same body and the same
``Polaris-Delivery-Id`` header, so the wallet can drop the repeat; these tests prove both halves.
"""

import base64
import json
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone
from stellar_sdk import Keypair

from polaris.conf import settings
from polaris.engine.notifications import DELIVERY_ID_HEADER, FAILPOINT_ENV, send_due_callbacks
from polaris.engine.tests.outgoing_fixtures import Worker, wait_for
from polaris.engine.transitions import change_status
from polaris.models import Asset, Callback, Transaction

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS


class Wallet:
    """A wallet's callback endpoint on a real socket: answers each POST with the next scripted status."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.received = []
        self.delivery_ids = []
        wallet = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                wallet.received.append((self.headers["Signature"], body, self.headers["Host"]))
                wallet.delivery_ids.append(self.headers[DELIVERY_ID_HEADER])
                self.send_response(wallet.statuses.pop(0) if wallet.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def wallet():
    made = []

    def make(statuses=()):
        made.append(Wallet(statuses))
        return made[-1]

    yield make
    for w in made:
        w.close()


@pytest.fixture
def asset():
    return Asset.objects.create(code="USD", issuer=Keypair.random().public_key)


def new_withdrawal(asset, callback) -> Transaction:
    return Transaction.objects.create(
        kind="withdrawal", protocol="sep24", status=S.incomplete, asset=asset, on_change_callback=callback
    )


def verify(signature_header: str, host: str, body: str) -> None:
    """Checks the SEP-24 signature the way a wallet does, with the anchor's SIGNING_KEY."""
    parts = dict(part.strip().split("=", 1) for part in signature_header.split(","))
    payload = f"{parts['t']}.{host}.{body}".encode()
    Keypair.from_public_key(settings.SIGNING_KEY).verify(payload, base64.b64decode(parts["s"]))


def test_each_status_change_is_delivered_in_order_with_a_valid_signature(asset, wallet):
    w = wallet()
    t = new_withdrawal(asset, w.url)
    change_status(t, S.pending_user_transfer_start, actor="test")
    # One callback per transaction per pass (the next waits for the earlier one's delivery); the worker
    # loop runs the next pass at once after a pass that sent something.
    assert send_due_callbacks() == 1
    assert send_due_callbacks() == 1
    statuses = [json.loads(body)["transaction"]["status"] for _, body, _ in w.received]
    assert statuses == [S.incomplete, S.pending_user_transfer_start]
    for signature, body, host in w.received:
        verify(signature, host, body)
    assert set(Callback.objects.values_list("state", flat=True)) == {Callback.STATE.delivered}
    assert send_due_callbacks() == 0


def test_a_500_is_retried_with_backoff_and_later_callbacks_wait_their_turn(asset, wallet):
    w = wallet([500])
    t = new_withdrawal(asset, w.url)
    change_status(t, S.pending_user_transfer_start, actor="test")
    assert send_due_callbacks(retry_base=0.3) == 1  # the first fails; the second must wait for it
    first = Callback.objects.order_by("id").first()
    assert (first.state, first.attempts, first.last_error) == (Callback.STATE.pending, 1, "HTTP 500")
    assert send_due_callbacks(retry_base=0.3) == 0  # backing off
    time.sleep(0.35)
    assert send_due_callbacks(retry_base=0.3) == 1
    assert send_due_callbacks(retry_base=0.3) == 1
    statuses = [json.loads(body)["transaction"]["status"] for _, body, _ in w.received]
    assert statuses == [S.incomplete, S.incomplete, S.pending_user_transfer_start]
    assert not Callback.objects.exclude(state=Callback.STATE.delivered).exists()
    first, second = Callback.objects.order_by("id").values_list("id", flat=True)
    assert w.delivery_ids == [str(first), str(first), str(second)]  # a retry is recognisable as a repeat


def test_the_outbox_row_rolls_back_with_the_status_change(asset, wallet):
    w = wallet()
    t = new_withdrawal(asset, w.url)
    with pytest.raises(RuntimeError), db_transaction.atomic():
        change_status(t, S.pending_user_transfer_start, actor="test")
        raise RuntimeError("the rest of the work failed")
    assert Callback.objects.count() == 1  # only the creation's


def test_post_message_and_no_callback_write_nothing(asset):
    new_withdrawal(asset, "postMessage")
    new_withdrawal(asset, None)
    assert not Callback.objects.exists()


def test_an_unreachable_wallet_fails_for_good_after_the_last_attempt(asset, monkeypatch):
    monkeypatch.setattr("polaris.engine.notifications.MAX_ATTEMPTS", 2)
    new_withdrawal(asset, "http://127.0.0.1:9/nowhere")
    assert send_due_callbacks(retry_base=0.0) == 1
    assert send_due_callbacks(retry_base=0.0) == 1
    callback = Callback.objects.get()
    assert callback.state == Callback.STATE.failed and callback.attempts == 2


# ---- send_callbacks as real processes -----------------------------------------------------------------------


def sender(tmp_path, *args, env: dict | None = None) -> Worker:
    # send_callbacks never talks to Horizon; the URL only satisfies the worker's settings.
    return Worker("send_callbacks", *args, horizon_url="http://127.0.0.1:9", log_dir=tmp_path, env=env)


def test_sender_killed_after_the_wallet_accepted_sends_the_same_callback_again(asset, wallet, tmp_path):
    w = wallet()
    new_withdrawal(asset, w.url)
    killed = sender(tmp_path, env={FAILPOINT_ENV: "after_post"})
    assert killed.process.wait(30) == -signal.SIGKILL, killed.log()
    callback = Callback.objects.get()
    assert (callback.state, callback.attempts, len(w.received)) == (Callback.STATE.pending, 0, 1)

    # The dead sender's claim holds for a lease (CALLBACK_REQUEST_TIMEOUT * 2 + 5 s); let it run out.
    Callback.objects.filter(id=callback.id).update(next_attempt_at=timezone.now())
    again = sender(tmp_path)
    assert again.process.wait(30) == 0, again.log()
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Callback.STATE.delivered, 1)
    # Delivered twice, identically: the wallet dedupes by the delivery id (or the frozen body).
    assert [body for _, body, _ in w.received] == [callback.body, callback.body]
    assert w.delivery_ids == [str(callback.id), str(callback.id)]
    for signature, body, host in w.received:
        verify(signature, host, body)


@pytest.mark.postgres_only
def test_two_senders_at_once_deliver_each_callback_once_in_order(asset, wallet, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("two senders share the outbox through SKIP LOCKED row locks: the PostgreSQL run covers it")
    w = wallet()
    steps = [S.pending_user_transfer_start, S.pending_anchor, S.pending_external, S.completed]
    senders = [sender(tmp_path, "--loop", "--interval", "0.3") for _ in range(2)]
    try:
        # Both run before the callbacks are written, so both compete for every one of them.
        wait_for(lambda: all("started (loop=True" in s.log() for s in senders))
        ts = [new_withdrawal(asset, w.url) for _ in range(8)]
        for status in steps:  # interleaved, so each transaction's callbacks are spread over the outbox
            for t in ts:
                change_status(t, status, actor="test")
        wait_for(lambda: not Callback.objects.exclude(state=Callback.STATE.delivered).exists(), timeout=30)
    finally:
        for s in senders:
            assert s.stop() == 0, s.log()
    for s in senders:
        assert s.errors() == [], s.log()
    ids = Callback.objects.values_list("id", flat=True)
    assert Counter(w.delivery_ids) == Counter({str(i): 1 for i in ids})  # each row once
    assert set(Callback.objects.values_list("attempts", flat=True)) == {1}
    received = [json.loads(body)["transaction"] for _, body, _ in w.received]
    for t in ts:
        assert [tx["status"] for tx in received if tx["id"] == str(t.id)] == [S.incomplete, *steps]
