"""The fee an asset's fixed and percentage settings give for an amount (SEP-6/24 ``/fee`` and the forms)."""

from decimal import ROUND_HALF_UP, Decimal

from polaris.models import Asset


def calculate_fee(asset: Asset, operation: str, amount: Decimal) -> Decimal:
    """``fixed + amount * percent / 100`` for ``operation`` (deposit or withdraw), at the asset's decimals."""
    prefix = "deposit" if operation == "deposit" else "withdrawal"
    fixed = getattr(asset, f"{prefix}_fee_fixed") or Decimal(0)
    percent = getattr(asset, f"{prefix}_fee_percent") or Decimal(0)
    fee = fixed + amount * percent / Decimal(100)
    return fee.quantize(Decimal(1).scaleb(-asset.significant_decimals), rounding=ROUND_HALF_UP)


def set_amounts(transaction, amount: Decimal, operation: str) -> None:
    """Set amount in/expected/fee/out, their assets and ``fee_details`` for a same-asset deposit or withdrawal."""
    asset = transaction.asset
    fee = calculate_fee(asset, operation, amount)
    asset_id = asset.asset_identification_format
    transaction.amount_in = transaction.amount_expected = amount
    transaction.amount_fee = fee
    transaction.amount_out = amount - fee
    transaction.amount_in_asset = transaction.amount_out_asset = transaction.amount_fee_asset = asset_id
    transaction.fee_details = {"total": str(fee), "asset": asset_id}
