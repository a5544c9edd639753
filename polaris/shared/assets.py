"""Finding the asset a SEP-6/24 request names, and the account and memo a withdrawal is paid with."""

import secrets

from polaris.models import Asset, Transaction
from polaris.shared.http import BadRequest, string_param

OPERATION_ENABLED = {"deposit": "deposit_enabled", "withdraw": "withdrawal_enabled"}
PROTOCOL_ENABLED = {"sep6": "sep6_enabled", "sep24": "sep24_enabled"}


def find_asset(params: dict, protocol: str, operation: str, code_name: str = "asset_code") -> Asset:
    """The enabled asset named by ``asset_code`` (and ``asset_issuer`` when given); 400 otherwise."""
    code = string_param(params, code_name, required=True)
    issuer = string_param(params, "asset_issuer")
    if code == "native":
        raise BadRequest("the native asset (XLM) is not offered by this anchor")
    candidates = Asset.objects.filter(code=code, **{PROTOCOL_ENABLED[protocol]: True})
    if issuer is not None:
        candidates = candidates.filter(issuer=issuer)
    assets = list(candidates[:2])
    if not assets:
        detail = f" issued by {issuer}" if issuer else ""
        raise BadRequest(f"unsupported {code_name} {code!r}{detail}")
    if len(assets) > 1:
        raise BadRequest(f"several assets have code {code!r}; say which with 'asset_issuer'")
    asset = assets[0]
    if not getattr(asset, OPERATION_ENABLED[operation]):
        raise BadRequest(f"{operation} is not enabled for {code}")
    return asset


def new_withdrawal_memo(account: str) -> str:
    """An ID memo no other transaction paying ``account`` uses; below 2**63 so signed-int64 clients cope."""
    while True:
        memo = str(secrets.randbelow(2**63 - 1) + 1)
        if not Transaction.objects.filter(receiving_anchor_account=account, memo=memo, memo_type="id").exists():
            return memo


def withdrawal_payment_fields(transaction: Transaction) -> dict:
    """``receiving_anchor_account`` and a unique ``memo`` for a withdrawal that has none yet.

    The payment engine's watcher matches the wallet's payment to the distribution account by this memo.
    """
    account = transaction.receiving_anchor_account or transaction.asset.distribution_account
    if not account:
        raise BadRequest(f"{transaction.asset.code} has no distribution account to receive withdrawals", status=503)
    if transaction.receiving_anchor_account and transaction.memo:
        return {}
    return {"receiving_anchor_account": account, "memo": new_withdrawal_memo(account), "memo_type": "id"}
