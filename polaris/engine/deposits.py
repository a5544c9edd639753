"""process_pending_deposits: pay each funded deposit on Stellar exactly once, batched and in parallel.

Invariant 1 -- each deposit is paid on Stellar at most once, and each deposit whose funds arrived is
eventually paid or visibly parked for a person -- rests on these rules, each enforced below:

  (a) Every envelope is signed with a max time and committed (``StellarSubmission`` + ``DepositPayment``
      rows) *before* it is submitted. Deposits keep their status (``pending_anchor`` or ``pending_trust``)
      until the outcome is known, as in django-polaris; the active payment row is what claims them.
  (b) A deposit goes into a new envelope only if it has no active ``DepositPayment``; a partial unique
      index makes a second active row impossible, even for two workers racing.
  (c) A payment row is deactivated only when its envelope can no longer apply: Horizon refused it with
      result codes, it is in a ledger and failed, or the network's ledger close time passed its max time
      and one more lookup by hash did not find it.
  (d) A timeout, 5xx, dropped connection or crash is "unknown": the submission stays ``pending`` and is
      resolved by hash (resubmitting the *same* envelope meanwhile is harmless: one hash, one sequence
      number). So a paid deposit is never marked failed.
  (e) Recording an outcome is a conditional update ``pending -> final`` in the same database transaction
      as the deposits' status changes, so two workers resolving one envelope apply it once.

A pass: resolve pending submissions (all of them on start-up, before anything else); hand deposits waiting
for funds to ``poll_pending_deposits`` and queue the returned ones in ``pending_anchor``; check each
queued deposit's destination (one Horizon load per distinct account); batch those without a memo of their
own up to 100 operations per envelope and give each memo deposit its own; build every envelope on its own
channel account, commit them all, submit them in parallel, and record each outcome; finally call the
integration's ``after_deposit`` for the deposits completed (start-up does this too, for what a crash left).

``after_deposit`` is called at least once per completed deposit, never before its completion is committed:
the commit that completes deposits also writes one ``PendingAfterDeposit`` row for each (one insert per
batch; none when the registered integration keeps the base ``after_deposit``, which does nothing), and the
calls are made from those rows after the pass's payments, never while envelopes are being recorded. A row
is deleted once its call returned or raised (logged, not retried: the deposit stays completed, as in
Polaris). A worker dying before the call leaves the row for the next pass or start-up; dying after the call
and before the row's delete makes that call once more: at least once, not exactly once. The calls run on
the worker's thread between passes, so a slow ``after_deposit`` delays the next pass's payments.
"""

import hashlib
import logging
import os
import signal
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.utils import timezone
from stellar_sdk.exceptions import BaseRequestError

from polaris.conf import settings
from polaris.engine.transitions import InvalidTransition, acting_as, change_status_many
from polaris.integrations import (
    CustodyError,
    DepositIntegration,
    registered_custody,
    registered_deposit,
    registered_rails,
)
from polaris.models import (
    Asset,
    ChannelAccount,
    DepositPayment,
    PendingAfterDeposit,
    QueuedDeposit,
    StellarSubmission,
    Transaction,
)
from polaris.stellar import channels, envelopes, horizon
from polaris.stellar.accounts import Trust, base_account, trust
from polaris.workers.wakeup import notify

logger = logging.getLogger("polaris.engine.deposits")

ACTOR = "process_pending_deposits"
WAKEUP_CHANNEL = "polaris_deposits"

S = Transaction.STATUS
STATE = StellarSubmission.STATE
DEPOSIT_KINDS = (Transaction.KIND.deposit, Transaction.KIND.deposit_exchange)
AWAITING_FUNDS = (S.pending_user_transfer_start, S.pending_external)
# Queued deposits the engine may put in an envelope (pending_trust ones are re-checked every pass).
PAYABLE = (S.pending_anchor, S.pending_trust)
# Failures after which the same deposits can simply be rebuilt at once.
RETRYABLE_TX_CODES = {"tx_bad_seq", "tx_insufficient_fee", "tx_too_late", "txbad_seq", "txinsufficient_fee",
                      "txtoo_late"}
FEE_BUMP_LIMIT = 16  # tx_insufficient_fee raises the bid up to 16x what fee_stats suggests
DELETE_CALLED_EVERY = 0.1  # seconds: the rows of after_deposit calls made are deleted at least this often

# Test-only crash points: ``POLARIS_DEPOSITS_FAILPOINT=after_commit|after_submit|after_complete`` makes the
# process SIGKILL itself there (after_complete: once deposits' completion is committed, before after_deposit),
# so tests can prove recovery from exactly those instants.
FAILPOINT_ENV = "POLARIS_DEPOSITS_FAILPOINT"


@dataclass(frozen=True)
class Options:
    envelope_timeout: int = 120  # seconds of validity (max time) after the network's current close time
    max_channels: int = 100  # envelopes in flight at once per distribution account (channels are created on demand)
    resolve_after: float = 15.0  # a later pass resolves a pending submission once it is this old


_fee_bump = {"factor": 1}


def prepare(options: Options = Options()) -> int:
    """Start-up: resolve every unresolved envelope before anything new is built, and make the after_deposit
    calls a crash left owed."""
    return resolve_submissions(min_age=0) + call_after_deposit()


def process_pending_deposits(options: Options = Options()) -> int:
    """One pass; returns how many deposits (or envelopes) it moved forward, 0 when there was nothing to do."""
    handled = resolve_submissions(min_age=options.resolve_after)
    handled += receive_funded_deposits()
    handled += pay_queued_deposits(options)
    handled += call_after_deposit()
    return handled


# ---- status changes ------------------------------------------------------------------------------


def _move(deposit: Transaction, to: str, reason: str, **fields) -> None:
    _move_many([deposit], to, reason, fields=fields)


def _move_many(deposits: list, to: str, reason: str = "", *, fields=None, fields_by_id=None,
               reasons_by_id=None) -> None:
    """Every status change of this worker: validated and recorded by change_status_many (one write for the
    whole batch, all or nothing), logged per deposit here."""
    if not deposits:
        return
    before = [deposit.status for deposit in deposits]
    change_status_many(deposits, to, actor=ACTOR, reason=reason, fields=fields, fields_by_id=fields_by_id,
                       reasons_by_id=reasons_by_id)
    reasons_by_id = reasons_by_id or {}
    for deposit, status in zip(deposits, before):
        logger.info("deposit %s: %s -> %s (%s)", deposit.pk, status, to, reasons_by_id.get(deposit.pk, reason))


# ---- (1) deposits whose funds arrived -------------------------------------------------------------


def receive_funded_deposits() -> int:
    """Asks the rails which waiting deposits were funded and queues those for payment in pending_anchor."""
    waiting = Transaction.objects.filter(kind__in=DEPOSIT_KINDS, status__in=AWAITING_FUNDS).select_related("asset")
    if not waiting.exists():
        return 0
    try:
        with acting_as(f"{ACTOR}:poll_pending_deposits"):
            funded = registered_rails().poll_pending_deposits(waiting) or []
    except Exception:
        logger.exception("poll_pending_deposits raised; trying again next pass")
        return 0
    return _queue(funded)


def _queue(funded: list) -> int:
    """Queues the deposits the rails returned in pending_anchor (computing amount_fee/amount_out when
    missing), or parks them in error, in one commit. They are read afresh and locked, so the status
    changes are checked against what they hold now, whatever the instances the rails returned say."""
    ids = list(dict.fromkeys(deposit.pk for deposit in funded))
    lacking_amount, nothing_left, to_queue, amounts = [], [], [], {}
    with db_transaction.atomic():
        found = (Transaction.objects.select_for_update(of=("self",)).select_related("asset").filter(pk__in=ids)
                 .in_bulk())
        for deposit in (found[pk] for pk in ids if pk in found):
            if deposit.kind not in DEPOSIT_KINDS or deposit.status not in (*AWAITING_FUNDS, S.pending_anchor):
                logger.warning("poll_pending_deposits returned %s; only waiting deposits can be queued", deposit)
            elif deposit.amount_in is None:
                lacking_amount.append(deposit)
            elif deposit.quote_id and (deposit.amount_fee is None or deposit.amount_out is None):
                logger.warning("deposit %s has a quote but no amount_fee/amount_out; waiting for the anchor", deposit.pk)
            else:
                fee = deposit.amount_fee if deposit.amount_fee is not None else _default_fee(deposit)
                out = deposit.amount_out if deposit.amount_out is not None else _round(deposit, deposit.amount_in - fee)
                amounts[deposit.pk] = {"amount_fee": fee, "amount_out": out}
                (nothing_left if out <= 0 else to_queue).append(deposit)
        _move_many(lacking_amount, S.error, "poll_pending_deposits returned it without amount_in",
                   fields={"status_message": "the amount received was not recorded (amount_in); contact the anchor"})
        _move_many(nothing_left, S.error, "nothing left to pay after fees", fields_by_id=amounts,
                   fields={"status_message": "the amount received does not cover the fee"})
        _move_many([deposit for deposit in to_queue if deposit.status != S.pending_anchor], S.pending_anchor,
                   "funds received off-chain", fields_by_id=amounts)
        already_queued = [deposit for deposit in to_queue if deposit.status == S.pending_anchor]
        for deposit in already_queued:
            deposit.amount_fee, deposit.amount_out = amounts[deposit.pk]["amount_fee"], amounts[deposit.pk]["amount_out"]
        Transaction.objects.bulk_update(already_queued, ["amount_fee", "amount_out"])
        QueuedDeposit.objects.bulk_create([QueuedDeposit(transaction=deposit) for deposit in to_queue],
                                          ignore_conflicts=True)
        if to_queue:
            notify(WAKEUP_CHANNEL)
    return len(lacking_amount) + len(nothing_left) + len(to_queue)


def _default_fee(deposit: Transaction) -> Decimal:
    """The asset's deposit fee: fixed + percent of amount_in (django-polaris' default fee function)."""
    asset = deposit.asset
    fee = (asset.deposit_fee_fixed or Decimal(0)) + (asset.deposit_fee_percent or Decimal(0)) / 100 * deposit.amount_in
    return _round(deposit, fee)


def _round(deposit: Transaction, amount: Decimal) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-deposit.asset.significant_decimals), rounding=ROUND_HALF_UP)


# ---- (2) destinations and (3) envelopes ------------------------------------------------------------


@dataclass
class Plan:
    """The operations that pay one deposit, and what they achieve."""

    deposit: Transaction
    operations: list
    claimable_balance: bool = False
    completes: bool = True  # False: they only create the account; the deposit then waits for a trustline


@dataclass
class Group:
    """What one envelope will carry: plans from one distribution account, with at most one memo."""

    asset: Asset
    plans: list = field(default_factory=list)
    memo: object = None

    @property
    def op_count(self) -> int:
        return sum(len(plan.operations) for plan in self.plans)


def pay_queued_deposits(options: Options) -> int:
    candidates = list(
        Transaction.objects.filter(kind__in=DEPOSIT_KINDS, status__in=PAYABLE, deposit_queue__isnull=False)
        .exclude(stellar_payments__active=True)
        .select_related("asset")
        .order_by("deposit_queue__queued_at")[: options.max_channels * envelopes.MAX_OPERATIONS]
    )
    if not candidates:
        return 0
    custody = registered_custody()
    by_distribution = defaultdict(list)
    handled = 0
    for deposit in candidates:
        try:
            by_distribution[custody.get_distribution_account(deposit.asset)].append(deposit)
        except (CustodyError, NotImplementedError) as error:
            logger.error("deposit %s: no distribution account: %s", deposit.pk, error)
    for distribution_account, deposits in by_distribution.items():
        with _session_lock(f"polaris deposits {distribution_account}") as locked:
            if locked:
                handled += _pay_from(distribution_account, deposits, options)
    return handled


def _pay_from(distribution_account: str, deposits: list, options: Options) -> int:
    handled = 0
    try:
        accounts = horizon.load_accounts(_destinations(deposits))
    except BaseRequestError as error:
        logger.warning("cannot check destinations (%s); trying again next pass", error)
        return 0
    plans = []
    for deposit in deposits:
        plan = _plan(deposit, distribution_account, accounts)
        if plan is None:
            continue
        if isinstance(plan, Plan):
            plans.append(plan)
        else:
            handled += 1
    groups = _group(plans)
    if not groups:
        return handled
    try:
        usable = _channels_for(groups[0].asset, distribution_account, min(len(groups), options.max_channels), options)
        close_time = horizon.latest_close_time()
        fee = horizon.fee_per_operation(_fee_bump["factor"])
    except BaseRequestError as error:
        logger.warning("Horizon unavailable (%s); trying again next pass", error)
        return handled
    max_time = max(int(time.time()), close_time) + options.envelope_timeout
    signed = [(group, channel, _signed_envelope(group, channel, sequence, fee, max_time))
              for group, (channel, sequence) in zip(groups, usable)]
    committed = _commit(signed, distribution_account, fee, max_time)
    _failpoint("after_commit")
    return handled + _submit_all(committed)


def _destinations(deposits) -> list[str]:
    result = []
    for deposit in deposits:
        try:
            result.append(base_account(deposit.to_address or ""))
        except ValueError:
            pass
    return result


def _plan(deposit: Transaction, distribution_account: str, accounts: dict):
    """A Plan to pay ``deposit``, or True when it was parked now, or None when it keeps waiting."""
    custody = registered_custody()
    asset = deposit.asset
    try:
        destination = base_account(deposit.to_address or "")
    except ValueError:
        _move(deposit, S.error, "invalid destination", status_message=f"invalid Stellar address {deposit.to_address!r}")
        return True
    stellar_asset = asset.to_stellar_asset()
    amount = deposit.amount_out
    claimable = deposit.claimable_balance_supported and custody.claimable_balances_supported
    account = accounts.get(destination)
    if account is None:
        if not custody.account_creation_supported:
            _move(deposit, S.error, "destination account does not exist",
                  status_message="the destination account does not exist and this anchor cannot create it")
            return True
        create = envelopes.create_account(destination, distribution_account)
        if claimable:
            balance = envelopes.claimable_balance(destination, stellar_asset, amount, distribution_account)
            return Plan(deposit, [create, balance], claimable_balance=True)
        return Plan(deposit, [create], completes=False)
    state = trust(account, asset.code, asset.issuer)
    if state is Trust.OK:
        return Plan(deposit, [envelopes.payment(deposit.to_address, stellar_asset, amount, distribution_account)])
    if state is Trust.NONE and claimable:
        balance = envelopes.claimable_balance(destination, stellar_asset, amount, distribution_account)
        return Plan(deposit, [balance], claimable_balance=True)
    if deposit.status == S.pending_trust:
        return None  # still waiting; re-checked next pass
    reason = "no trustline" if state is Trust.NONE else "trustline not authorized by the issuer"
    _move(deposit, S.pending_trust, reason)
    return True


def _group(plans: list) -> list[Group]:
    """Memo deposits alone; the others packed up to 100 operations per envelope (a plan is never split)."""
    groups, batch = [], None
    for plan in plans:
        deposit = plan.deposit
        if deposit.memo:
            groups.append(Group(deposit.asset, [plan], envelopes.memo_of(deposit.memo, deposit.memo_type)))
            continue
        if batch is None or batch.op_count + len(plan.operations) > envelopes.MAX_OPERATIONS:
            batch = Group(deposit.asset)
            groups.append(batch)
        batch.plans.append(plan)
    # Batches first: they carry the most deposits per channel.
    groups.sort(key=lambda group: group.memo is not None)
    return groups


def _signed_envelope(group: Group, channel: ChannelAccount, sequence: int, fee: int, max_time: int):
    """The envelope paying ``group`` from ``channel``, signed by the channel and by custody."""
    operations = [op for plan in group.plans for op in plan.operations]
    envelope = envelopes.build(source=channel.account, sequence=sequence, operations=operations, fee_per_op=fee,
                               max_time=max_time, passphrase=settings.STELLAR_NETWORK_PASSPHRASE, memo=group.memo)
    envelopes.sign_with(envelope, channel.seed)
    registered_custody().sign_envelope(group.asset, envelope)
    return envelope


def _commit(signed: list, distribution_account: str, fee: int, max_time: int) -> list[StellarSubmission]:
    """Rule (a) and (b): commit a pass's signed envelopes and their payment rows, in one commit, before
    any submission.

    One locking read of all their deposits; an envelope with a deposit another worker claimed meanwhile
    is dropped unsent, so its sequence number was never used. The rest are stored with two inserts. If a
    unique index still refuses them (a deposit or channel taken by a worker without the lock), all are
    dropped unsent and the next pass builds again.
    """
    ids = [plan.deposit.pk for group, _, _ in signed for plan in group.plans]
    try:
        with db_transaction.atomic():
            still_payable = set(
                Transaction.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids, status__in=PAYABLE)
                .exclude(stellar_payments__active=True)
                .values_list("pk", flat=True)
            )
            kept = [(group, channel, envelope) for group, channel, envelope in signed
                    if all(plan.deposit.pk in still_payable for plan in group.plans)]
            if len(kept) < len(signed):
                logger.info("%d envelope(s) dropped unsent: a deposit was claimed by another worker",
                            len(signed) - len(kept))
            submissions = StellarSubmission.objects.bulk_create([
                StellarSubmission(hash=envelope.hash_hex(), envelope_xdr=envelope.to_xdr(), source_account=channel.account,
                                  channel=channel, distribution_account=distribution_account, max_time=max_time,
                                  fee_per_op=fee)
                for _, channel, envelope in kept
            ])
            rows = []
            for (group, _, _), submission in zip(kept, submissions):
                index = 0
                for plan in group.plans:
                    rows.append(DepositPayment(submission=submission, transaction=plan.deposit, op_index=index,
                                               op_count=len(plan.operations), claimable_balance=plan.claimable_balance,
                                               completes=plan.completes))
                    index += len(plan.operations)
            DepositPayment.objects.bulk_create(rows)
        return submissions
    except IntegrityError:
        logger.info("%d envelope(s) dropped unsent: claimed by another worker", len(signed))
        return []


# ---- channels --------------------------------------------------------------------------------------


def _channels_for(asset: Asset, distribution_account: str, wanted: int, options: Options):
    """``wanted`` idle funded channels if possible, funding new ones (one envelope, committed first)."""
    usable = channels.usable_channels(distribution_account, wanted)
    if len(usable) >= wanted:
        return usable
    if StellarSubmission.objects.filter(distribution_account=distribution_account, purpose="channels",
                                        state=STATE.pending).exists():
        return usable  # a funding envelope is unresolved; the resolver settles it first
    existing = ChannelAccount.objects.filter(distribution_account=distribution_account).count()
    refund = channels.unfunded_channels(distribution_account, exclude={channel.account for channel, _ in usable})
    missing = min(wanted - len(usable), max(0, options.max_channels - existing) + len(refund))
    to_fund = refund[:missing]
    to_fund += channels.new_channels(distribution_account, missing - len(to_fund))
    if not to_fund:
        return usable
    funder = horizon.load_account(distribution_account)
    if funder is None:
        logger.error("distribution account %s does not exist on the network", distribution_account)
        return usable
    max_time = max(int(time.time()), horizon.latest_close_time()) + options.envelope_timeout
    fee = horizon.fee_per_operation(_fee_bump["factor"])
    envelope = envelopes.build(source=distribution_account, sequence=int(funder["sequence"]),
                               operations=channels.funding_operations(distribution_account, to_fund),
                               fee_per_op=fee, max_time=max_time, passphrase=settings.STELLAR_NETWORK_PASSPHRASE)
    registered_custody().sign_envelope(asset, envelope)
    submission = StellarSubmission.objects.create(
        hash=envelope.hash_hex(), envelope_xdr=envelope.to_xdr(), purpose="channels",
        source_account=distribution_account, distribution_account=distribution_account, max_time=max_time,
        fee_per_op=fee,
    )
    logger.info("funding %d channel account(s) in %s", len(to_fund), submission.hash)
    _record_outcome(submission, horizon.submit(submission.envelope_xdr))
    return channels.usable_channels(distribution_account, wanted)


@contextmanager
def _session_lock(name: str):
    """On PostgreSQL, one instance at a time does the work called ``name`` (a session advisory lock, not
    held by the others, who skip it this pass; released by the database if the holder dies). Elsewhere a
    single instance is assumed. Building and submitting for a distribution account takes it: the unique
    indexes of rule (b) hold either way, the lock only avoids wasted envelopes."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


# ---- (4) submission and (5) outcomes ----------------------------------------------------------------


def _submit_all(submissions: list) -> int:
    """Submits the committed envelopes in parallel and records each outcome as it arrives."""
    if not submissions:
        return 0
    handled = 0
    # One thread per envelope: each synchronous POST waits for the ledger, so they must all be in flight.
    # Outcomes that arrive together (envelopes of one ledger) are recorded together.
    with ThreadPoolExecutor(max_workers=len(submissions)) as pool:
        in_flight = {pool.submit(horizon.submit, sub.envelope_xdr): sub for sub in submissions}
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            _failpoint("after_submit")
            handled += _record_outcomes([(in_flight.pop(future), future.result()) for future in done])
    return handled


def _record_outcomes(outcomes: list) -> int:
    """Records submission outcomes: every success in one commit, anything else one by one.

    If a deposit of one envelope was moved meanwhile so that it cannot complete (a person parked it while
    its payment was in flight), the batch is all or nothing, so the envelopes are recorded one by one: only
    that envelope stays pending (and is logged for a person), as it would have alone."""
    succeeded, handled = [], 0
    for submission, outcome in outcomes:
        if outcome.kind == "applied" and outcome.record.get("successful"):
            succeeded.append((submission, outcome.record))
        else:
            handled += _record_outcome(submission, outcome)
    try:
        return handled + _complete(succeeded)
    except InvalidTransition:
        if len(succeeded) == 1:
            raise
    for pair in succeeded:
        try:
            handled += _complete([pair])
        except InvalidTransition:
            logger.exception("submission %s landed but its deposits cannot complete; it needs a person", pair[0].hash)
    return handled


def _record_outcome(submission: StellarSubmission, outcome: horizon.SubmitOutcome) -> int:
    if outcome.kind == "applied":
        return _record_ledger_result(submission, outcome.record)
    if outcome.kind == "unknown":
        logger.warning("submission %s: outcome unknown (%s); resolving by hash later", submission.hash, outcome.detail)
        return 0
    # Refused with result codes. Another worker may have landed this same envelope meanwhile: look first.
    try:
        record = horizon.find_transaction(submission.hash)
    except BaseRequestError:
        return 0  # stays pending: resolved by hash later
    if record is not None:
        return _record_ledger_result(submission, record)
    if outcome.result_codes.get("transaction") in ("tx_insufficient_fee", "txinsufficient_fee"):
        _fee_bump["factor"] = min(FEE_BUMP_LIMIT, _fee_bump["factor"] * 2)
    return _release(submission, STATE.rejected, outcome.result_codes)


def _record_ledger_result(submission: StellarSubmission, record: dict) -> int:
    if record.get("successful"):
        return _complete([(submission, record)])
    return _release(submission, STATE.failed, horizon.result_codes(record["result_xdr"]), ledger=record.get("ledger"))


def _complete(succeeded: list) -> int:
    """Rule (e): these envelopes are in a ledger and succeeded; their deposits complete in one commit.

    ``succeeded``: ``(submission, Horizon record)`` pairs. Each envelope is won by its own conditional
    update ``pending -> succeeded``, so of two workers resolving it only one applies it; the deposits of
    the envelopes won then move in one write per target status."""
    if not succeeded:
        return 0
    with db_transaction.atomic():
        won = {
            submission.pk: (submission, record)
            for submission, record in succeeded
            if StellarSubmission.objects.filter(pk=submission.pk, state=STATE.pending).update(
                state=STATE.succeeded, ledger=record.get("ledger"), resolved_at=timezone.now()
            )
        }
        if not won:
            return 0
        payments = list(DepositPayment.objects.filter(submission__in=list(won)).select_related("transaction__asset"))
        paid = [payment for payment in payments if payment.completes]
        created = [payment for payment in payments if not payment.completes]
        hash_of = {payment.transaction_id: won[payment.submission_id][0].hash for payment in payments}
        balance_ids = {  # per envelope that created claimable balances: op index -> balance id
            pk: horizon.claimable_balance_ids(won[pk][1]["result_xdr"]) if won[pk][1].get("result_xdr") else {}
            for pk in {payment.submission_id for payment in paid if payment.claimable_balance}
        }
        QueuedDeposit.objects.filter(transaction__in=[payment.transaction_id for payment in paid]).delete()
        if _after_deposit_implemented():
            PendingAfterDeposit.objects.bulk_create([PendingAfterDeposit(transaction_id=payment.transaction_id)
                                                     for payment in paid])
        _move_many([payment.transaction for payment in paid], S.completed,
                   fields_by_id={payment.transaction_id: {"stellar_transaction_id": hash_of[payment.transaction_id],
                                                          "claimable_balance_id": _balance_id(payment, balance_ids)}
                                 for payment in paid},
                   reasons_by_id={payment.transaction_id: f"paid in Stellar transaction {hash_of[payment.transaction_id]}"
                                  for payment in paid})
        DepositPayment.objects.filter(pk__in=[payment.pk for payment in created]).update(active=False)
        _move_many([payment.transaction for payment in created], S.pending_trust,
                   reasons_by_id={payment.transaction_id: f"account created in {hash_of[payment.transaction_id]}; "
                                                          "waiting for its trustline" for payment in created})
    if paid:
        _failpoint("after_complete")
    per_submission = Counter(payment.submission_id for payment in payments)
    for submission, _record in won.values():
        if submission.purpose == StellarSubmission.PURPOSE.channels:
            logger.info("channel accounts funded in %s", submission.hash)
    return sum(max(1, per_submission[pk]) for pk in won)


def _balance_id(payment: DepositPayment, balance_ids: dict) -> str | None:
    """The claimable balance a payment created: its last operation's, from its envelope's result."""
    if not payment.claimable_balance:
        return None
    return balance_ids[payment.submission_id].get(payment.op_index + payment.op_count - 1)


def _release(submission: StellarSubmission, state: str, codes: dict, ledger: int | None = None) -> int:
    """Rule (c): the envelope can no longer apply. The deposit whose operation failed is parked (back to
    pending_trust for a missing trustline, else error with the code); the others go back to pending_anchor
    to be rebuilt in a fresh envelope."""
    tx_code = codes.get("transaction", "")
    op_codes = codes.get("operations") or []
    with db_transaction.atomic():
        won = StellarSubmission.objects.filter(pk=submission.pk, state=STATE.pending).update(
            state=state, result_codes=codes or None, ledger=ledger, resolved_at=timezone.now()
        )
        if not won:
            return 0
        payments = list(submission.payments.filter(active=True).select_related("transaction__asset"))
        DepositPayment.objects.filter(pk__in=[payment.pk for payment in payments]).update(active=False)
        to_park = defaultdict(list)  # (status, first failed code) -> deposits, moved in one write each
        for payment in payments:
            deposit = payment.transaction
            failed = [code for code in op_codes[payment.op_index: payment.op_index + payment.op_count]
                      if code != "op_success"]
            if any(code.endswith("no_trust") for code in failed):
                to_park[(S.pending_trust, failed[0])].append(deposit)
            elif failed:
                to_park[(S.error, failed[0])].append(deposit)
            else:
                logger.info("deposit %s: %s %s (%s); rebuilding", deposit.pk, submission.hash, state, tx_code or "expired")
        for (to, code), deposits in to_park.items():
            fields = {"status_message": f"the Stellar payment failed ({code}); the anchor will review it"}
            _move_many([deposit for deposit in deposits if deposit.status != to], to, f"{submission.hash} failed: {code}",
                       fields=fields if to == S.error else None)
        parked = sum(len(deposits) for deposits in to_park.values())
    logger.info("submission %s %s (%s)", submission.hash, state, codes or "not in any ledger")
    retry_now = state == STATE.expired or tx_code in RETRYABLE_TX_CODES or (tx_code in ("tx_failed", "txfailed") and parked)
    return (len(payments) or 1) if retry_now else parked


# ---- (6) the integration's after_deposit -------------------------------------------------------------


def call_after_deposit(batch: int = 100) -> int:
    """Calls ``after_deposit`` for every owed ``PendingAfterDeposit`` row, oldest first; returns how many rows
    it settled.

    Each call gets the deposit as the database holds it now. The rows of the calls made are deleted in one
    statement per batch, or sooner, every ``DELETE_CALLED_EVERY`` seconds, when the calls are slow: a delete
    per call would hold up the next pass by a commit per deposit, and a crash still repeats only the calls
    made since the last delete. On PostgreSQL one instance makes the calls at a time (two would call twice
    for the same row); the others skip them this pass."""
    with _session_lock("polaris after_deposit") as locked:
        if not locked:
            return 0
        settled = 0
        while ids := list(PendingAfterDeposit.objects.order_by("created_at").values_list("pk", flat=True)[:batch]):
            deposits = Transaction.objects.select_related("asset").in_bulk(ids)
            deleted_up_to, deleted_at = 0, time.monotonic()
            for called, pk in enumerate(ids, start=1):
                _after_deposit(pk, deposits.get(pk))
                if called == len(ids) or time.monotonic() - deleted_at >= DELETE_CALLED_EVERY:
                    PendingAfterDeposit.objects.filter(pk__in=ids[deleted_up_to:called]).delete()
                    deleted_up_to, deleted_at = called, time.monotonic()
            settled += len(ids)
        return settled


def _after_deposit_implemented() -> bool:
    """Whether the registered integration has an after_deposit of its own. The base one does nothing, so
    without one no call is owed, and an anchor without it pays nothing for it (no rows, no reads)."""
    return type(registered_deposit()).after_deposit is not DepositIntegration.after_deposit


def _after_deposit(pk, deposit: Transaction | None) -> None:
    """One call; what it raises is logged and dropped, so one failing deposit cannot stall the others."""
    if deposit is None or deposit.status != S.completed:
        logger.warning("deposit %s is %s, not completed; after_deposit not called", pk,
                       deposit.status if deposit else "gone")
        return
    try:
        with acting_as(f"{ACTOR}:after_deposit"):
            registered_deposit().after_deposit(deposit)
    except Exception:
        logger.exception("after_deposit raised for deposit %s; not called again (the deposit stays completed)", pk)


# ---- (0) resolving by hash ---------------------------------------------------------------------------


def resolve_submissions(*, min_age: float) -> int:
    """Settles pending submissions at least ``min_age`` seconds old (rule (c), (d)).

    Found on Horizon: its recorded success or failure. Not found while the network's close time is still
    within its max time: resubmit the same envelope (it can land only once) and keep it pending unless it
    landed. Not found after the max time: look once more, and only then expire it so its deposits are
    rebuilt with a fresh sequence number.
    """
    cutoff = timezone.now() - timedelta(seconds=min_age)
    pending = list(StellarSubmission.objects.filter(state=STATE.pending, created_at__lte=cutoff).order_by("created_at"))
    handled, close_time = 0, None
    for submission in pending:
        try:
            record = horizon.find_transaction(submission.hash)
            if record is None:
                if close_time is None:
                    close_time = horizon.latest_close_time()
                if close_time > submission.max_time:
                    record = horizon.find_transaction(submission.hash)
                    if record is None:
                        handled += _release(submission, STATE.expired, {})
                        continue
                else:
                    outcome = horizon.submit(submission.envelope_xdr)
                    if outcome.kind != "applied":
                        continue  # a refusal of a resubmission proves nothing; wait for the max time
                    record = outcome.record
            handled += _record_ledger_result(submission, record)
        except BaseRequestError as error:
            logger.warning("cannot resolve %s yet: %s", submission.hash, error)
    return handled


def _failpoint(name: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
