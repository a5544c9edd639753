"""Channel accounts: transaction sources that let deposit envelopes be submitted in parallel.

Each Stellar account has one sequence number, so envelopes from one source apply one after another. The
engine makes each deposit envelope's source a channel account (the distribution account stays the source
of every operation, and both sign), so N channels carry N envelopes into the same ledger. Channels are
created on demand, funded by the distribution account, and their seeds are encrypted in the database
*before* the funding transaction is submitted, so a crash never leaves a funded account without its key.
"""

from decimal import Decimal

from polaris.models import ChannelAccount, StellarSubmission
from polaris.stellar import envelopes, horizon

# Enough XLM for the minimum balance and tens of thousands of 100-operation transactions' fees.
CHANNEL_STARTING_BALANCE = Decimal("5")


def usable_channels(distribution_account: str, limit: int) -> list[tuple[ChannelAccount, int]]:
    """Up to ``limit`` channels with no pending envelope that exist on the network, with their sequence."""
    idle = list(
        ChannelAccount.objects.filter(distribution_account=distribution_account)
        .exclude(submissions__state=StellarSubmission.STATE.pending)
        .order_by("?")[:limit]
    )
    accounts = horizon.load_accounts([channel.account for channel in idle])
    return [
        (channel, int(accounts[channel.account]["sequence"])) for channel in idle if accounts[channel.account]
    ]


def unfunded_channels(distribution_account: str, exclude: set[str]) -> list[ChannelAccount]:
    """Channels whose funding never landed (their rows are written before the funding is submitted)."""
    rows = ChannelAccount.objects.filter(distribution_account=distribution_account).exclude(account__in=exclude)
    accounts = horizon.load_accounts([channel.account for channel in rows])
    return [channel for channel in rows if accounts[channel.account] is None]


def new_channels(distribution_account: str, count: int) -> list[ChannelAccount]:
    """Saves ``count`` new channel rows with fresh, encrypted seeds (not yet funded)."""
    from stellar_sdk import Keypair

    rows = []
    for _ in range(count):
        channel = ChannelAccount(distribution_account=distribution_account)
        channel.seed = Keypair.random().secret
        rows.append(channel)
    return ChannelAccount.objects.bulk_create(rows)


def funding_operations(distribution_account: str, channels: list[ChannelAccount]) -> list:
    return [
        envelopes.create_account(channel.account, distribution_account, CHANNEL_STARTING_BALANCE)
        for channel in channels
    ]
