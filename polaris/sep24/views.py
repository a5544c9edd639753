"""SEP-24 v3.8 JSON endpoints: /info, /fee, the two interactive POSTs, /transactions and /transaction.

The interactive pages themselves are in ``polaris.sep24.interactive``.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.db import transaction as db_transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from polaris.conf import settings
from polaris.integrations import registered_deposit, registered_withdrawal
from polaris.models import Asset, Transaction
from polaris.sep10.auth import SEP10Token, requires_sep10_token
from polaris.sep24 import tokens
from polaris.shared import transactions as shared
from polaris.shared.assets import find_asset
from polaris.shared.fees import calculate_fee
from polaris.shared.http import (
    BadRequest,
    activate_language,
    allow_methods,
    amount_param,
    body_params,
    bool_param,
    callback_url_param,
    check_amount_limits,
    check_refund_memo,
    handles_errors,
    memo_params,
    stellar_account_param,
    string_param,
)
from polaris.shared.sep9 import sep9_fields

PROTOCOL = Transaction.PROTOCOL.sep24
KINDS = (Transaction.KIND.deposit, Transaction.KIND.withdrawal)


def _number(value: Decimal | None):
    return None if value is None else float(value)


def _asset_info(asset: Asset, prefix: str, enabled: bool) -> dict:
    info = {"enabled": enabled}
    for key in ("min_amount", "max_amount", "fee_fixed", "fee_percent"):
        value = getattr(asset, f"{prefix}_{key}")
        if value is not None:
            info[key] = _number(value)
    return info


@csrf_exempt
@allow_methods("GET")
def info(request):
    activate_language(request.GET.get("lang"))
    deposit, withdraw = {}, {}
    for asset in Asset.objects.filter(sep24_enabled=True).order_by("code"):
        deposit[asset.code] = _asset_info(asset, "deposit", asset.deposit_enabled)
        withdraw[asset.code] = _asset_info(asset, "withdrawal", asset.withdrawal_enabled)
    return JsonResponse(
        {
            "deposit": deposit,
            "withdraw": withdraw,
            "fee": {"enabled": True, "authentication_required": False},
            "features": {"account_creation": True, "claimable_balances": True},
        }
    )


@csrf_exempt
@allow_methods("GET")
@handles_errors
def fee(request):
    """Deprecated ``GET /fee`` (SEP-24 §fee): the fee for an amount, from the asset's fee settings."""
    params = request.GET
    activate_language(params.get("lang"))
    operation = string_param(params, "operation", required=True)
    if operation not in ("deposit", "withdraw"):
        raise BadRequest("'operation' must be deposit or withdraw")
    asset = find_asset(params, "sep24", operation)
    amount = amount_param(params)
    if amount is None:
        raise BadRequest("'amount' is required")
    return JsonResponse({"fee": _number(calculate_fee(asset, operation, amount))})


def _check_quote(params: dict) -> None:
    if string_param(params, "quote_id") is not None:
        raise BadRequest("quote_id needs SEP-38 quotes, which SEP-24 transactions here do not use")


def interactive_url(transaction: Transaction, token: SEP10Token, lang: str) -> str:
    kind = "deposit" if transaction.kind == Transaction.KIND.deposit else "withdraw"
    query = urlencode({"transaction_id": str(transaction.id), "token": tokens.issue(transaction, token), "lang": lang})
    return f"{settings.HOST_URL}/sep24/transactions/{kind}/webapp?{query}"


def _save_sep9(integration, token: SEP10Token, request, params: dict, lang: str) -> None:
    fields = sep9_fields(params)
    if not fields:
        return
    try:
        integration.save_sep9_fields(
            token,
            request,
            token.account,
            fields,
            lang,
            muxed_account=token.muxed_account,
            account_memo=str(token.memo) if token.memo is not None else None,
            account_memo_type="id" if token.memo is not None else None,
        )
    except ValueError as error:
        raise BadRequest(str(error)) from None


def _interactive_response(transaction: Transaction, token: SEP10Token, lang: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": "interactive_customer_info_needed",
            "url": interactive_url(transaction, token, lang),
            "id": str(transaction.id),
        }
    )


@csrf_exempt
@allow_methods("POST")
@requires_sep10_token
@handles_errors
def deposit(request, token: SEP10Token):
    """Start a deposit: an ``incomplete`` transaction and the URL of its interactive flow."""
    params = body_params(request)
    lang = activate_language(params.get("lang"))
    asset = find_asset(params, "sep24", "deposit")
    amount = amount_param(params)
    check_amount_limits(amount, asset.deposit_min_amount, asset.deposit_max_amount, asset.code)
    destination = stellar_account_param(params) or token.muxed_account or token.account
    memo, memo_type = memo_params(params)
    if memo is not None and destination.startswith("M"):
        raise BadRequest("'memo' cannot be used with a muxed (M...) account: the account carries the memo")
    claimable_balance_supported = bool_param(params, "claimable_balance_supported")
    on_change_callback = callback_url_param(params, "on_change_callback", allow_post_message=True)
    _check_quote(params)
    with db_transaction.atomic():
        _save_sep9(registered_deposit(), token, request, params, lang)
        transaction = Transaction(
            kind=Transaction.KIND.deposit,
            protocol=PROTOCOL,
            status=Transaction.STATUS.incomplete,
            asset=asset,
            amount_expected=amount,
            to_address=destination,
            memo=memo,
            memo_type=memo_type or Transaction.MEMO_TYPE.text,
            claimable_balance_supported=claimable_balance_supported,
            on_change_callback=on_change_callback,
            **shared.owner_fields(token),
        )
        transaction.save()
    return _interactive_response(transaction, token, lang)


@csrf_exempt
@allow_methods("POST")
@requires_sep10_token
@handles_errors
def withdraw(request, token: SEP10Token):
    """Start a withdrawal; the memo and account to pay are set when the interactive flow completes."""
    params = body_params(request)
    lang = activate_language(params.get("lang"))
    asset = find_asset(params, "sep24", "withdraw")
    amount = amount_param(params)
    check_amount_limits(amount, asset.withdrawal_min_amount, asset.withdrawal_max_amount, asset.code)
    source = stellar_account_param(params) or token.muxed_account or token.account
    refund_memo = check_refund_memo(params)
    on_change_callback = callback_url_param(params, "on_change_callback", allow_post_message=True)
    _check_quote(params)
    with db_transaction.atomic():
        _save_sep9(registered_withdrawal(), token, request, params, lang)
        transaction = Transaction(
            kind=Transaction.KIND.withdrawal,
            protocol=PROTOCOL,
            status=Transaction.STATUS.incomplete,
            asset=asset,
            amount_expected=amount,
            from_address=source,
            memo_type=Transaction.MEMO_TYPE.id,
            on_change_callback=on_change_callback,
            **refund_memo,
            **shared.owner_fields(token),
        )
        transaction.save()
    return _interactive_response(transaction, token, lang)


transactions, transaction = shared.transaction_views(PROTOCOL, KINDS)
