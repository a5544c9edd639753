"""What a destination account can receive: exists, trusts the asset, is authorized. Muxed-aware."""

from enum import Enum

from stellar_sdk import MuxedAccount, StrKey


class Trust(Enum):
    OK = "ok"
    NONE = "none"  # no trustline
    UNAUTHORIZED = "unauthorized"  # a trustline the issuer has not authorized


def base_account(address: str) -> str:
    """The G address behind ``address`` (a G or M address); raises ValueError when it is neither.

    Accounts, trustlines and claimants live on the G account; a payment may still go to the M address.
    """
    if StrKey.is_valid_ed25519_public_key(address):
        return address
    if StrKey.is_valid_med25519_public_key(address):
        return MuxedAccount.from_account(address).account_id
    raise ValueError(f"not a Stellar account address: {address!r}")


def trust(account: dict, code: str, issuer: str) -> Trust:
    """The trust state of Horizon account JSON ``account`` for asset code:issuer (the issuer trusts itself)."""
    if account["account_id"] == issuer:
        return Trust.OK
    for balance in account.get("balances", []):
        if balance.get("asset_code") == code and balance.get("asset_issuer") == issuer:
            return Trust.OK if balance.get("is_authorized", True) else Trust.UNAUTHORIZED
    return Trust.NONE
