"""The Horizon HTTP API over a localnet ledger."""

from .app import Horizon

__all__ = ["Horizon"]
