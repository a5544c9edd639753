"""process_pending_deposits end to end, in-process: a real database, a real localnet process, real HTTP.

Each test asserts on localnet's ledger that every deposit was delivered exactly once.
"""

from decimal import Decimal

from stellar_sdk import MuxedAccount

from polaris.engine.deposits import Options, process_pending_deposits
from polaris.engine.tests.test_deposits_support import anchor, ledger, new_deposit, ready_deposits  # noqa: F401
from polaris.models import DepositPayment, QueuedDeposit, StellarSubmission, Transaction

S = Transaction.STATUS
FAST = Options(resolve_after=0)


def run_passes(count=3, options=FAST) -> None:
    for _ in range(count):
        process_pending_deposits(options)


def test_funded_account_is_paid_once_with_the_amount_after_fees(anchor, ledger):
    asset, rails = anchor
    asset.deposit_fee_fixed = Decimal("1.5")
    asset.save()
    (user,) = ledger.new_accounts(1)
    deposit = new_deposit(asset, user.public_key, "10", funded_rails=rails)
    waiting = new_deposit(asset, user.public_key, "5")  # not funded: stays where it is

    run_passes()

    deposit.refresh_from_db()
    waiting.refresh_from_db()
    assert deposit.status == S.completed
    assert (deposit.amount_fee, deposit.amount_out) == (Decimal("1.5"), Decimal("8.5"))
    assert deposit.completed_at is not None
    assert ledger.balance(user.public_key) == Decimal("8.5")
    assert ledger.deliveries()[user.public_key] == 1
    assert deposit.stellar_transaction_id == StellarSubmission.objects.get(purpose="deposits").hash
    history = list(deposit.status_changes.order_by("at").values_list("to_status", "actor"))
    assert [to for to, _ in history] == [S.pending_user_transfer_start, S.pending_anchor, S.completed]
    assert {actor for _, actor in history[1:]} == {"process_pending_deposits"}
    assert waiting.status == S.pending_user_transfer_start
    assert not QueuedDeposit.objects.filter(transaction=deposit).exists()


def test_missing_amount_in_parks_the_deposit_in_error(anchor, ledger):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1)
    deposit = new_deposit(asset, user.public_key, funded_rails=rails)
    Transaction.objects.filter(pk=deposit.pk).update(amount_in=None)
    run_passes(1)
    deposit.refresh_from_db()
    assert deposit.status == S.error and "amount_in" in deposit.status_message


def test_unfunded_account_is_created_with_a_claimable_balance_in_one_transaction(anchor, ledger):
    asset, rails = anchor
    from stellar_sdk import Keypair

    user = Keypair.random()
    deposit = new_deposit(asset, user.public_key, "7", funded_rails=rails, claimable_balance_supported=True)
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.completed
    assert ledger.account(user.public_key) is not None
    assert deposit.claimable_balance_id and deposit.claimable_balance_id.startswith("00000000")
    assert ledger.deliveries()[user.public_key] == 1
    assert StellarSubmission.objects.filter(purpose="deposits").count() == 1


def test_unfunded_account_without_claimable_balances_waits_in_pending_trust_then_is_paid(anchor, ledger):
    asset, rails = anchor
    from stellar_sdk import Keypair

    user = Keypair.random()
    deposit = new_deposit(asset, user.public_key, "4", funded_rails=rails)
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.pending_trust
    created = ledger.account(user.public_key)
    assert created is not None and Decimal(created["balances"][0]["balance"]) >= Decimal("2")
    assert ledger.deliveries()[user.public_key] == 0

    ledger.add_trustlines([user])  # the new account can pay for its trustline from the starting balance
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.completed
    assert ledger.balance(user.public_key) == Decimal("4")
    assert ledger.deliveries()[user.public_key] == 1


def test_no_trustline_with_claimable_balance_support_gets_a_claimable_balance(anchor, ledger):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1, trust=False)
    deposit = new_deposit(asset, user.public_key, "3", funded_rails=rails, claimable_balance_supported=True)
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.completed and deposit.claimable_balance_id
    assert ledger.deliveries()[user.public_key] == 1


def test_no_trustline_waits_in_pending_trust_and_is_paid_once_the_trustline_exists(anchor, ledger):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1, trust=False)
    deposit = new_deposit(asset, user.public_key, "2", funded_rails=rails)
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.pending_trust
    assert deposit.status_changes.filter(to_status=S.pending_trust).count() == 1  # re-checked, not re-recorded

    ledger.add_trustlines([user])
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.completed
    assert ledger.deliveries()[user.public_key] == 1


def test_muxed_destination_is_paid_at_its_muxed_address(anchor, ledger):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1)
    muxed = MuxedAccount(user.public_key, 2**64 - 7).account_muxed
    deposit = new_deposit(asset, muxed, "6", funded_rails=rails)
    run_passes()
    deposit.refresh_from_db()
    assert deposit.status == S.completed
    assert ledger.deliveries()[muxed] == 1
    assert ledger.balance(user.public_key) == Decimal("6")


def test_deposits_with_their_own_memo_get_their_own_transactions(anchor, ledger):
    asset, rails = anchor
    (user,) = ledger.new_accounts(1)
    text = new_deposit(asset, user.public_key, "1", funded_rails=rails, memo="order-17", memo_type="text")
    number = new_deposit(asset, user.public_key, "2", funded_rails=rails, memo="12345678901234567890",
                         memo_type="id")
    plain = [new_deposit(asset, user.public_key, "3", funded_rails=rails) for _ in range(3)]
    run_passes()
    for deposit in (text, number, *plain):
        deposit.refresh_from_db()
        assert deposit.status == S.completed
    assert text.stellar_transaction_id != number.stellar_transaction_id
    assert len({deposit.stellar_transaction_id for deposit in plain}) == 1
    memos = ledger.payment_memos(user.public_key)
    assert ("text", "order-17") in memos and ("id", "12345678901234567890") in memos
    assert ledger.deliveries()[user.public_key] == 5


def test_150_ready_deposits_are_paid_in_two_transactions(anchor, ledger):
    asset, _ = anchor
    users = ledger.new_accounts(5)
    deposits = ready_deposits(asset, [users[i % 5].public_key for i in range(150)])
    run_passes(2)
    assert Transaction.objects.filter(pk__in=[d.pk for d in deposits], status=S.completed).count() == 150
    assert StellarSubmission.objects.filter(purpose="deposits").count() == 2
    counts = ledger.deliveries()
    assert [counts[user.public_key] for user in users] == [30] * 5
    assert DepositPayment.objects.filter(active=True).count() == 150


def test_a_failing_operation_parks_its_deposit_and_the_rest_of_the_batch_is_rebuilt(anchor, ledger):
    asset, _ = anchor
    good = ledger.new_accounts(3)
    (full,) = ledger.new_accounts(1)
    # A trustline with room for 1 unit: the checks see a trustline, the ledger refuses 2 units (op_line_full).
    ledger.submit(full, lambda b: b.append_change_trust_op(ledger.asset, limit="1"))
    deposits = ready_deposits(asset, [user.public_key for user in good], amount="2")
    doomed = ready_deposits(asset, [full.public_key], amount="2")[0]
    run_passes(3)
    doomed.refresh_from_db()
    assert doomed.status == S.error and "line_full" in doomed.status_message
    for deposit in deposits:
        deposit.refresh_from_db()
        assert deposit.status == S.completed
    failed = StellarSubmission.objects.get(state__in=["failed", "rejected"])
    assert "line_full" in str(failed.result_codes)
    counts = ledger.deliveries()
    assert [counts[user.public_key] for user in good] == [1, 1, 1] and counts[full.public_key] == 0
