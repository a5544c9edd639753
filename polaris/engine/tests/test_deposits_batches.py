"""The deposit worker's batch writes, without a network: queueing, committing and completing many at once."""

from decimal import Decimal

import pytest
from stellar_sdk import Keypair

from polaris.engine import deposits
from polaris.engine.transitions import acting_as, change_status
from polaris.models import (
    Asset,
    ChannelAccount,
    DepositPayment,
    QueuedDeposit,
    StellarSubmission,
    Transaction,
)
from polaris.stellar.horizon import SubmitOutcome

pytestmark = pytest.mark.django_db
S = Transaction.STATUS


@pytest.fixture
def asset():
    return Asset.objects.create(code="USDC", issuer=Keypair.random().public_key, significant_decimals=2,
                                deposit_fee_fixed=Decimal("1"))


def deposit(asset, status, **fields):
    with acting_as("test"):
        return Transaction.objects.create(kind=Transaction.KIND.deposit, status=status, asset=asset,
                                          to_address=Keypair.random().public_key, **fields)


def last_change(transaction):
    return transaction.status_changes.order_by("id").last()


def submission(channel=None, **fields):
    return StellarSubmission.objects.create(hash=Keypair.random().raw_public_key().hex(), envelope_xdr="AAAA",
                                            source_account="G", distribution_account="G", max_time=1, fee_per_op=100,
                                            channel=channel, **fields)


def test_funded_deposits_are_queued_or_parked_in_one_pass(asset):
    funded = [deposit(asset, S.pending_user_transfer_start, amount_in=Decimal("10")) for _ in range(3)]
    external = deposit(asset, S.pending_external, amount_in=Decimal("5"), amount_fee=Decimal("0"))
    no_amount = deposit(asset, S.pending_user_transfer_start)
    too_small = deposit(asset, S.pending_external, amount_in=Decimal("1"))
    already = deposit(asset, S.pending_anchor, amount_in=Decimal("3"))
    finished = deposit(asset, S.completed, amount_in=Decimal("3"))
    returned = [*funded, external, no_amount, too_small, already, finished, funded[0]]  # a repeat too

    assert deposits._queue(returned) == 7

    rows = Transaction.objects.in_bulk([t.pk for t in returned])
    for t in funded:
        assert (rows[t.pk].status, rows[t.pk].amount_fee, rows[t.pk].amount_out) == (
            S.pending_anchor, Decimal("1"), Decimal("9"))
        assert (last_change(t).reason, last_change(t).actor) == ("funds received off-chain", deposits.ACTOR)
    assert (rows[external.pk].status, rows[external.pk].amount_out) == (S.pending_anchor, Decimal("5"))
    assert rows[no_amount.pk].status == S.error and "amount_in" in rows[no_amount.pk].status_message
    assert rows[too_small.pk].status == S.error and rows[too_small.pk].amount_out == Decimal("0")
    assert (rows[already.pk].status, rows[already.pk].amount_out) == (S.pending_anchor, Decimal("2"))
    assert already.status_changes.count() == 1  # amounts only, no status change
    assert rows[finished.pk].status == S.completed
    assert set(QueuedDeposit.objects.values_list("transaction_id", flat=True)) == {
        t.pk for t in [*funded, external, already]}


def test_envelopes_of_one_ledger_complete_in_one_commit_and_only_once(asset):
    paid = [deposit(asset, S.pending_anchor, amount_in=Decimal("1")) for _ in range(3)]
    created = deposit(asset, S.pending_anchor, amount_in=Decimal("1"))
    batch, memo = submission(), submission()
    for index, t in enumerate(paid[:2] + [created]):
        DepositPayment.objects.create(submission=batch, transaction=t, op_index=index, op_count=1,
                                      completes=t is not created)
    DepositPayment.objects.create(submission=memo, transaction=paid[2], op_index=0, op_count=1)
    QueuedDeposit.objects.bulk_create([QueuedDeposit(transaction=t) for t in [*paid, created]])
    outcomes = [(batch, {"successful": True, "ledger": 7}), (memo, {"successful": True, "ledger": 7})]

    assert deposits._complete(outcomes) == 4
    assert deposits._complete(outcomes) == 0  # a second resolver of the same envelopes applies nothing

    rows = Transaction.objects.in_bulk([t.pk for t in [*paid, created]])
    for t, envelope in [(paid[0], batch), (paid[1], batch), (paid[2], memo)]:
        assert (rows[t.pk].status, rows[t.pk].stellar_transaction_id) == (S.completed, envelope.hash)
        assert rows[t.pk].completed_at is not None
        assert last_change(t).reason == f"paid in Stellar transaction {envelope.hash}"
        assert t.status_changes.filter(to_status=S.completed).count() == 1
    assert rows[created.pk].status == S.pending_trust
    assert not DepositPayment.objects.get(transaction=created).active
    assert list(QueuedDeposit.objects.values_list("transaction_id", flat=True)) == [created.pk]
    assert set(StellarSubmission.objects.values_list("state", flat=True)) == {StellarSubmission.STATE.succeeded}


def test_a_deposit_parked_while_in_flight_holds_back_only_its_own_envelope(asset):
    parked, other = (deposit(asset, S.pending_anchor, amount_in=Decimal("1")) for _ in range(2))
    envelopes = [submission(), submission()]
    for envelope, t in zip(envelopes, [parked, other]):
        DepositPayment.objects.create(submission=envelope, transaction=t, op_index=0, op_count=1)
    change_status(Transaction.objects.get(pk=parked.pk), S.error, actor="admin:alice")
    applied = SubmitOutcome(kind="applied", record={"successful": True, "ledger": 9})

    assert deposits._record_outcomes([(envelope, applied) for envelope in envelopes]) == 1

    assert Transaction.objects.get(pk=other.pk).status == S.completed
    assert Transaction.objects.get(pk=parked.pk).status == S.error
    assert [StellarSubmission.objects.get(pk=e.pk).state for e in envelopes] == ["pending", "succeeded"]


class _Signed:
    """What _commit needs of a signed envelope."""

    def __init__(self):
        self.hash = Keypair.random().raw_public_key().hex()

    def hash_hex(self):
        return self.hash

    def to_xdr(self):
        return "AAAA"


def test_commit_drops_only_the_envelopes_whose_deposits_were_claimed_meanwhile(asset):
    free = [deposit(asset, S.pending_anchor, amount_out=Decimal("1")) for _ in range(2)]
    claimed = deposit(asset, S.pending_anchor, amount_out=Decimal("1"))
    DepositPayment.objects.create(submission=submission(), transaction=claimed, op_index=0, op_count=1)
    channels = []
    for _ in range(2):
        channel = ChannelAccount(distribution_account="G")
        channel.seed = Keypair.random().secret
        channel.save()
        channels.append(channel)
    plans = lambda ts: deposits.Group(asset, [deposits.Plan(t, [object()]) for t in ts])  # noqa: E731
    signed = [(plans(free), channels[0], _Signed()), (plans([claimed]), channels[1], _Signed())]

    stored = deposits._commit(signed, "G", 100, 1)

    assert [s.hash for s in stored] == [signed[0][2].hash]
    assert list(stored[0].payments.order_by("op_index").values_list("transaction_id", "op_index")) == [
        (free[0].pk, 0), (free[1].pk, 1)]
    assert not StellarSubmission.objects.filter(channel=channels[1]).exists()
