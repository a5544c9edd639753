"""Stellar I/O for the payment engine: Horizon requests, account checks, fees, envelopes, channel accounts.

Nothing here touches transaction statuses; ``polaris.engine`` decides what to do with what this returns.
"""
