"""watch_transactions over a real localnet: matching rules, the inbox, the stored cursor (one pass each)."""

import base64
import os
from decimal import Decimal

import pytest

from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import HashMemo, IdMemo, TextMemo, id_memo, withdrawal
from polaris.engine.watcher import catch_up, record_payment, stored_cursor
from polaris.models import Payout, ReceivedPayment, StreamCursor, Transaction

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS
R = ReceivedPayment.REASON


def watch_once(chain) -> int:
    return catch_up(chain.distribution.public_key)


@pytest.fixture
def watching(usd, horizon):
    """The watcher's first start ('now'), so each test sees only its own payments."""
    stored_cursor(horizon.distribution.public_key)
    return horizon


def only_payment(tx_hash: str) -> ReceivedPayment:
    [payment] = ReceivedPayment.objects.filter(transaction_hash=tx_hash)
    return payment


def test_payment_with_the_memo_moves_the_withdrawal_on_and_queues_one_payout(watching, usd):
    t = withdrawal(usd, amount="10")
    tx_hash = watching.pay("10.1234567", id_memo(t))
    assert watch_once(watching) == 1
    t.refresh_from_db()
    assert t.status == S.pending_anchor
    assert t.amount_in == Decimal("10.1234567")  # recorded exactly: overpayment is not rounded away
    assert t.stellar_transaction_id == tx_hash
    assert t.from_address == watching.payer.public_key
    assert Payout.objects.get(transaction=t).state == Payout.STATE.queued
    payment = only_payment(tx_hash)
    assert (payment.status, payment.transaction_id) == (ReceivedPayment.STATUS.matched, t.id)
    assert t.status_changes.last().actor == "watch_transactions"


def test_replaying_the_stream_records_nothing_twice(watching, usd):
    t = withdrawal(usd)
    watching.pay("10", id_memo(t))
    watch_once(watching)
    StreamCursor.objects.all().delete()  # as if the cursor were lost: replay from the beginning of history
    stored_cursor(watching.distribution.public_key, "0")
    assert watch_once(watching) >= 0
    assert ReceivedPayment.objects.filter(transaction=t).count() == 1
    assert Payout.objects.filter(transaction=t).count() == 1


def test_memo_type_mismatch_is_not_matched(watching, usd):
    t = withdrawal(usd, memo="4242", memo_type="text")
    tx_hash = watching.pay("10", IdMemo(4242))  # same value, type id instead of text
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_user_transfer_start
    assert (only_payment(tx_hash).status, only_payment(tx_hash).reason) == ("unmatched", R.no_transaction)


def test_text_and_hash_memos_match_hash_in_either_encoding(watching, usd):
    text = withdrawal(usd, memo=f"w-{os.getpid()}-{id(usd)}", memo_type="text")
    raw = os.urandom(32)
    hashed = withdrawal(usd, memo=raw.hex(), memo_type="hash")  # stored as hex; Horizon sends base64
    watching.pay("10", TextMemo(text.memo))
    watching.pay("10", HashMemo(raw))
    watch_once(watching)
    text.refresh_from_db()
    hashed.refresh_from_db()
    assert text.status == hashed.status == S.pending_anchor
    assert ReceivedPayment.objects.get(transaction=hashed).memo == base64.b64encode(raw).decode()


def test_muxed_destination_matches_by_its_id_without_a_memo(watching, usd):
    muxed = watching.muxed_distribution(987654321)
    t = withdrawal(usd, receiving=muxed, memo=None, memo_type="id")
    t.memo = None
    t.save()
    tx_hash = watching.pay("10", to=muxed)
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_anchor
    assert only_payment(tx_hash).to_address == muxed


def test_path_payment_strict_send_records_the_amount_received(watching, usd):
    t = withdrawal(usd, amount="25")
    tx_hash = watching.pay("25", id_memo(t), op="strict_send")
    watch_once(watching)
    t.refresh_from_db()
    payment = only_payment(tx_hash)
    assert payment.operation_type == "path_payment_strict_send"
    assert t.status == S.pending_anchor
    assert t.amount_in == Decimal(payment.record["amount"]) == Decimal("25")


def test_fee_bump_payment_matches_by_the_inner_transactions_memo(watching, usd):
    sponsor = watching.fund()
    t = withdrawal(usd)
    tx_hash = watching.pay("10", id_memo(t), fee_bump_by=sponsor)
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_anchor
    assert t.stellar_transaction_id == tx_hash


def test_wrong_asset_is_kept_for_review(watching, usd):
    t = withdrawal(usd)
    tx_hash = watching.pay("10", id_memo(t), asset=watching.eur())
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_user_transfer_start
    payment = only_payment(tx_hash)
    assert (payment.status, payment.reason, payment.asset_code) == ("unmatched", R.wrong_asset, "EUR")
    assert not Payout.objects.exists()


def test_underpayment_is_kept_for_review_and_the_withdrawal_still_waits(watching, usd):
    t = withdrawal(usd, amount="10")
    short = watching.pay("9.99", id_memo(t))
    watch_once(watching)
    assert only_payment(short).reason == R.amount_below_expected
    full = watching.pay("10", id_memo(t))
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_anchor
    assert only_payment(full).transaction_id == t.id


def test_second_payment_for_a_paid_withdrawal_is_kept_for_review(watching, usd):
    t = withdrawal(usd)
    watching.pay("10", id_memo(t))
    watch_once(watching)
    second = watching.pay("10", id_memo(t))
    watch_once(watching)
    assert (only_payment(second).status, only_payment(second).reason) == ("unmatched", R.already_paid)
    assert Payout.objects.filter(transaction=t).count() == 1


def test_send_in_pending_sender_is_matched_and_moves_to_pending_receiver(watching, usd):
    t = withdrawal(usd, kind="send")
    watching.pay("10", id_memo(t))
    watch_once(watching)
    t.refresh_from_db()
    assert t.status == S.pending_receiver


def test_payment_without_a_known_memo_and_outgoing_payments_are_handled(watching, usd):
    unknown = watching.pay("1", IdMemo(1))
    # The distribution account paying someone else (a deposit) is not an incoming payment: not recorded.
    outgoing = watching.submit(
        watching.distribution, lambda b: b.append_payment_op(watching.payer.public_key, watching.usd(), "1")
    )
    watch_once(watching)
    assert only_payment(unknown).reason == R.no_transaction
    assert not ReceivedPayment.objects.filter(transaction_hash=outgoing).exists()


def test_the_cursor_only_moves_forward_with_recorded_payments(watching, usd):
    account = watching.distribution.public_key
    before = int(StreamCursor.objects.get(account=account).cursor)
    t = withdrawal(usd)
    watching.pay("10", id_memo(t))
    watch_once(watching)
    after = int(StreamCursor.objects.get(account=account).cursor)
    assert after > before
    assert after == int(ReceivedPayment.objects.get(transaction=t).operation_id)


def test_a_record_for_an_operation_already_recorded_only_advances_the_cursor(watching, usd):
    t = withdrawal(usd)
    watching.pay("10", id_memo(t))
    watch_once(watching)
    payment = ReceivedPayment.objects.get(transaction=t)
    assert record_payment(watching.distribution.public_key, payment.record) is None
    assert ReceivedPayment.objects.count() == 1
