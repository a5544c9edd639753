"""Polaris' models. The payment engine adds its own tables in ``engine.py``."""

from polaris.models.assets import Asset
from polaris.models.auth import UsedChallenge
from polaris.models.history import AppendOnlyError, TransactionStatusChange
from polaris.models.inbox import ReceivedPayment, StreamCursor
from polaris.models.outbox import Callback
from polaris.models.payouts import Payout, PayoutRelease
from polaris.models.quotes import DeliveryMethod, ExchangePair, OffChainAsset, Quote
from polaris.models.submissions import (
    ChannelAccount,
    DepositPayment,
    PendingAfterDeposit,
    QueuedDeposit,
    StellarSubmission,
)
from polaris.models.transactions import StatusChangeRefused, Transaction

__all__ = [
    "AppendOnlyError",
    "Asset",
    "Callback",
    "ChannelAccount",
    "DeliveryMethod",
    "DepositPayment",
    "ExchangePair",
    "OffChainAsset",
    "Payout",
    "PayoutRelease",
    "PendingAfterDeposit",
    "QueuedDeposit",
    "Quote",
    "ReceivedPayment",
    "StatusChangeRefused",
    "StellarSubmission",
    "StreamCursor",
    "Transaction",
    "TransactionStatusChange",
    "UsedChallenge",
]
