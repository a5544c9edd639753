"""Building and signing deposit envelopes: time-bounded, a channel account as source, custody signing."""

import base64
from decimal import Decimal

from stellar_sdk import (
    Account,
    Claimant,
    CreateAccount,
    CreateClaimableBalance,
    HashMemo,
    IdMemo,
    Keypair,
    Memo,
    Payment,
    TextMemo,
    TransactionBuilder,
    TransactionEnvelope,
)
from stellar_sdk import Asset as StellarAsset

MAX_OPERATIONS = 100  # per Stellar transaction, a protocol limit

# A new account's starting balance: the minimum balance (2 base reserves), one more reserve for the
# trustline the user must add, and room for fees. A claimable balance's reserve is the anchor's.
NEW_ACCOUNT_STARTING_BALANCE = Decimal("2.01")


def memo_of(memo: str | None, memo_type: str | None) -> Memo | None:
    """The SDK memo for a Transaction's ``memo``/``memo_type`` (a hash memo is stored base64)."""
    if not memo:
        return None
    if memo_type == "id":
        return IdMemo(int(memo))
    if memo_type == "hash":
        return HashMemo(base64.b64decode(memo))
    return TextMemo(memo)


def payment(destination: str, asset: StellarAsset, amount: Decimal, source: str) -> Payment:
    return Payment(destination=destination, asset=asset, amount=amount, source=source)


def claimable_balance(claimant: str, asset: StellarAsset, amount: Decimal, source: str) -> CreateClaimableBalance:
    """A balance only ``claimant`` (a G address) can claim, at any time."""
    return CreateClaimableBalance(asset=asset, amount=amount, claimants=[Claimant(claimant)], source=source)


def create_account(destination: str, source: str, starting_balance: Decimal = NEW_ACCOUNT_STARTING_BALANCE):
    return CreateAccount(destination=destination, starting_balance=starting_balance, source=source)


def build(
    *,
    source: str,
    sequence: int,
    operations: list,
    fee_per_op: int,
    max_time: int,
    passphrase: str,
    memo: Memo | None = None,
) -> TransactionEnvelope:
    """An unsigned envelope using sequence ``sequence + 1`` of ``source``, valid until ``max_time``.

    The max time is what makes "not found" conclusive: once the network's ledgers close after it, this
    envelope can never be applied, so its deposits may be paid by a new one.
    """
    if not 0 < len(operations) <= MAX_OPERATIONS:
        raise ValueError(f"a transaction holds 1..{MAX_OPERATIONS} operations, not {len(operations)}")
    builder = TransactionBuilder(Account(source, sequence), passphrase, base_fee=fee_per_op)
    for operation in operations:
        builder.append_operation(operation)
    builder.add_time_bounds(0, max_time)
    if memo is not None:
        builder.add_memo(memo)
    return builder.build()


def sign_with(envelope: TransactionEnvelope, seed: str) -> TransactionEnvelope:
    envelope.sign(Keypair.from_secret(seed))
    return envelope
