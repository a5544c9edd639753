"""SEP-6 v4.3: /info, /deposit, /withdraw, the -exchange variants, /transactions, /transaction,
PATCH /transactions/:id and /fee.

What to tell the user (``how``, ``instructions``, ``extra_info``) or whether KYC is missing comes from
the registered integration's ``process_sep6_request``; the transaction it is given is saved only when it
answers with a success. Exchanges need SEP-38 quotes: without SEP-38 active they answer 400 saying so.
"""

import json
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException
from stellar_sdk import MuxedAccount, StrKey

from polaris.conf import settings
from polaris.engine.transitions import acting_as
from polaris.integrations import registered_deposit, registered_withdrawal
from polaris.models import Asset, Quote, Transaction
from polaris.sep10.auth import SEP10Token, requires_sep10_token
from polaris.shared import transactions as shared
from polaris.shared.assets import find_asset, withdrawal_payment_fields
from polaris.shared.fees import calculate_fee, set_amounts
from polaris.shared.http import (
    BadRequest,
    NotFound,
    activate_language,
    allow_methods,
    amount_param,
    bool_param,
    callback_url_param,
    check_amount_limits,
    check_refund_memo,
    handles_errors,
    memo_params,
    stellar_account_param,
    string_param,
)
from polaris.shared.serializers import transaction_json

PROTOCOL = Transaction.PROTOCOL.sep6
K = Transaction.KIND
S = Transaction.STATUS
KINDS = (K.deposit, K.deposit_exchange, K.withdrawal, K.withdrawal_exchange)
ACTOR = "sep6"


def _number(value):
    return None if value is None else float(value)


def _limits(asset: Asset, prefix: str) -> dict:
    """min/max amount and fees of an asset, as /info and the deposit/withdraw answers show them."""
    values = {key: getattr(asset, f"{prefix}_{key}") for key in ("min_amount", "max_amount", "fee_fixed", "fee_percent")}
    return {key: _number(value) for key, value in values.items() if value is not None}


def _exchange_active() -> bool:
    return "sep-38" in settings.ACTIVE_SEPS


@csrf_exempt
@allow_methods("GET")
def info(request):
    activate_language(request.GET.get("lang"))
    body = {"deposit": {}, "withdraw": {}}
    exchange = _exchange_active()
    if exchange:
        body["deposit-exchange"], body["withdraw-exchange"] = {}, {}
    for asset in Asset.objects.filter(sep6_enabled=True).order_by("code"):
        body["deposit"][asset.code] = {
            "enabled": asset.deposit_enabled, "authentication_required": True, **_limits(asset, "deposit")
        }
        body["withdraw"][asset.code] = {
            "enabled": asset.withdrawal_enabled, "authentication_required": True, **_limits(asset, "withdrawal")
        }
        if exchange and asset.sep38_enabled:
            body["deposit-exchange"][asset.code] = {"enabled": asset.deposit_enabled, "authentication_required": True}
            body["withdraw-exchange"][asset.code] = {"enabled": asset.withdrawal_enabled, "authentication_required": True}
    body.update(
        {
            "fee": {"enabled": True, "authentication_required": False},
            "transactions": {"enabled": True, "authentication_required": True},
            "transaction": {"enabled": True, "authentication_required": True},
            "features": {"account_creation": True, "claimable_balances": True},
        }
    )
    return JsonResponse(body)


@csrf_exempt
@allow_methods("GET")
@handles_errors
def fee(request):
    """Deprecated ``GET /fee``: the fee for an amount, from the asset's fee settings."""
    params = request.GET
    operation = string_param(params, "operation", required=True)
    if operation not in ("deposit", "withdraw"):
        raise BadRequest("'operation' must be deposit or withdraw")
    asset = find_asset(params, "sep6", operation)
    amount = amount_param(params)
    if amount is None:
        raise BadRequest("'amount' is required")
    return JsonResponse({"fee": _number(calculate_fee(asset, operation, amount))})


def _ask_integration(integration, token, request, params: dict, transaction: Transaction) -> dict | JsonResponse:
    """``process_sep6_request``'s answer, or the (deprecated but still honoured) 403 KYC answers."""
    try:
        with acting_as(ACTOR):
            answer = integration.process_sep6_request(token, request, params, transaction)
    except NotImplementedError:
        raise BadRequest("this anchor does not offer this SEP-6 operation", status=501) from None
    except ValueError as error:
        raise BadRequest(str(error)) from None
    except APIException as error:
        raise BadRequest(str(error.detail), status=error.status_code) from None
    answer = answer or {}
    if answer.get("type") == "non_interactive_customer_info_needed":
        return JsonResponse({"type": answer["type"], "fields": list(answer.get("fields", []))}, status=403)
    if answer.get("type") == "customer_info_status":
        keys = ("type", "status", "more_info_url", "eta")
        return JsonResponse({key: answer[key] for key in keys if answer.get(key) is not None}, status=403)
    return answer


def _common_params(request) -> dict:
    params = request.GET.dict()
    params["lang"] = activate_language(params.get("lang"))
    return params


def _new_transaction(token: SEP10Token, params: dict, **fields) -> Transaction:
    return Transaction(
        protocol=PROTOCOL,
        on_change_callback=callback_url_param(params, "on_change_callback"),
        **shared.owner_fields(token),
        **fields,
    )


def _how(answer: dict, transaction: Transaction) -> str:
    if answer.get("how"):
        return str(answer["how"])
    if transaction.instructions:
        return "; ".join(f"{item.get('description', name)}: {item.get('value')}" for name, item in transaction.instructions.items())
    return "See the transaction (GET /transaction) for how to send the funds."


def _deposit_response(answer: dict, transaction: Transaction) -> JsonResponse:
    if answer.get("instructions") and not transaction.instructions:
        transaction.instructions = answer["instructions"]
    with acting_as(ACTOR):
        transaction.save()
    body = {"id": str(transaction.id), "how": _how(answer, transaction)}
    if transaction.instructions:
        body["instructions"] = transaction.instructions
    if answer.get("eta") is not None:
        body["eta"] = answer["eta"]
    body.update(_limits(transaction.asset, "deposit"))
    if answer.get("extra_info"):
        body["extra_info"] = answer["extra_info"]
    return JsonResponse(body)


def _withdraw_response(answer: dict, transaction: Transaction) -> JsonResponse:
    for name, value in withdrawal_payment_fields(transaction).items():
        setattr(transaction, name, value)
    with acting_as(ACTOR):
        transaction.save()
    body = {
        "id": str(transaction.id),
        "account_id": transaction.receiving_anchor_account,
        "memo_type": transaction.memo_type,
        "memo": transaction.memo,
    }
    if answer.get("eta") is not None:
        body["eta"] = answer["eta"]
    body.update(_limits(transaction.asset, "withdrawal"))
    if answer.get("extra_info"):
        body["extra_info"] = answer["extra_info"]
    return JsonResponse(body)


def _deposit_fields(params: dict) -> dict:
    destination = stellar_account_param(params, "account")
    if destination is None:
        raise BadRequest("'account' is required: the Stellar account to deposit to")
    memo, memo_type = memo_params(params)
    if memo is not None and destination.startswith("M"):
        raise BadRequest("'memo' cannot be used with a muxed (M...) account: the account carries the memo")
    return {
        "to_address": destination,
        "memo": memo,
        "memo_type": memo_type or Transaction.MEMO_TYPE.text,
        "claimable_balance_supported": bool_param(params, "claimable_balance_supported"),
        "funding_method": string_param(params, "funding_method"),
    }


def _withdraw_fields(params: dict, token: SEP10Token) -> dict:
    source = stellar_account_param(params, "account") or token.muxed_account or token.account
    return {
        "from_address": source,
        "memo_type": Transaction.MEMO_TYPE.id,
        "funding_method": string_param(params, "funding_method"),
        **check_refund_memo(params),
    }


@csrf_exempt
@allow_methods("GET")
@requires_sep10_token
@handles_errors
def deposit(request, token: SEP10Token):
    params = _common_params(request)
    asset = find_asset(params, "sep6", "deposit")
    amount = amount_param(params)
    check_amount_limits(amount, asset.deposit_min_amount, asset.deposit_max_amount, asset.code)
    transaction = _new_transaction(
        token, params, kind=K.deposit, status=S.pending_user_transfer_start, asset=asset, **_deposit_fields(params)
    )
    if amount is not None:
        set_amounts(transaction, amount, "deposit")
    with db_transaction.atomic():
        answer = _ask_integration(registered_deposit(), token, request, {**params, "asset": asset, "amount": amount}, transaction)
        return answer if isinstance(answer, JsonResponse) else _deposit_response(answer, transaction)


@csrf_exempt
@allow_methods("GET")
@requires_sep10_token
@handles_errors
def withdraw(request, token: SEP10Token):
    params = _common_params(request)
    asset = find_asset(params, "sep6", "withdraw")
    amount = amount_param(params)
    check_amount_limits(amount, asset.withdrawal_min_amount, asset.withdrawal_max_amount, asset.code)
    transaction = _new_transaction(
        token, params, kind=K.withdrawal, status=S.pending_user_transfer_start, asset=asset, **_withdraw_fields(params, token)
    )
    if amount is not None:
        set_amounts(transaction, amount, "withdraw")
    with db_transaction.atomic():
        answer = _ask_integration(registered_withdrawal(), token, request, {**params, "asset": asset, "amount": amount}, transaction)
        return answer if isinstance(answer, JsonResponse) else _withdraw_response(answer, transaction)


def _quote(params: dict, token: SEP10Token, sell_asset: str, buy_asset: str, amount) -> Quote | None:
    """The firm quote named by ``quote_id``, checked against the request and its owner; 400 on any mismatch."""
    quote_id = string_param(params, "quote_id")
    if quote_id is None:
        return None
    try:
        quote = Quote.objects.get(id=quote_id, type=Quote.TYPE.firm, stellar_account=token.account, account_memo=token.memo)
    except (Quote.DoesNotExist, ValueError, ValidationError):
        raise BadRequest(f"no firm quote {quote_id!r} for this account") from None
    if quote.expires_at and quote.expires_at < datetime.now(dt_timezone.utc):
        raise BadRequest("the quote has expired")
    if (quote.sell_asset, quote.buy_asset) != (sell_asset, buy_asset):
        raise BadRequest(f"the quote is for {quote.sell_asset} -> {quote.buy_asset}, not {sell_asset} -> {buy_asset}")
    if quote.sell_amount != amount:
        raise BadRequest(f"'amount' must equal the quote's sell_amount {quote.sell_amount.normalize():f}")
    return quote


def _exchange(request, token: SEP10Token, operation: str):
    if not _exchange_active():
        raise BadRequest(f"{operation}-exchange needs SEP-38 quotes, which this anchor does not offer")
    params = _common_params(request)
    is_deposit = operation == "deposit"
    on_chain_name, off_chain_name = ("destination_asset", "source_asset") if is_deposit else ("source_asset", "destination_asset")
    asset = find_asset(params, "sep6", operation, code_name=on_chain_name)
    if not asset.sep38_enabled:
        raise BadRequest(f"{asset.code} is not offered for exchange")
    off_chain = string_param(params, off_chain_name, required=True)
    if ":" not in off_chain:
        raise BadRequest(f"'{off_chain_name}' must be in SEP-38 format, e.g. iso4217:USD")
    amount = amount_param(params)
    if amount is None:
        raise BadRequest("'amount' is required")
    stellar_id = asset.asset_identification_format
    sell, buy = (off_chain, stellar_id) if is_deposit else (stellar_id, off_chain)
    quote = _quote(params, token, sell, buy, amount)
    fields = _deposit_fields(params) if is_deposit else _withdraw_fields(params, token)
    transaction = _new_transaction(
        token,
        params,
        kind=K.deposit_exchange if is_deposit else K.withdrawal_exchange,
        status=S.pending_user_transfer_start,
        asset=asset,
        quote=quote,
        amount_in=amount,
        amount_expected=amount,
        amount_in_asset=sell,
        amount_out_asset=buy,
        amount_out=quote.buy_amount if quote else None,
        fee_details=quote.fee if quote else None,
        **fields,
    )
    integration = registered_deposit() if is_deposit else registered_withdrawal()
    with db_transaction.atomic():
        answer = _ask_integration(integration, token, request, {**params, "asset": asset, "amount": amount, "quote": quote}, transaction)
        if isinstance(answer, JsonResponse):
            return answer
        return _deposit_response(answer, transaction) if is_deposit else _withdraw_response(answer, transaction)


@csrf_exempt
@allow_methods("GET")
@requires_sep10_token
@handles_errors
def deposit_exchange(request, token: SEP10Token):
    return _exchange(request, token, "deposit")


@csrf_exempt
@allow_methods("GET")
@requires_sep10_token
@handles_errors
def withdraw_exchange(request, token: SEP10Token):
    return _exchange(request, token, "withdraw")


def _check_account(params, token: SEP10Token) -> None:
    """SEP-6's optional ``account`` on /transactions must be the token's own (G or M) account."""
    account = string_param(params, "account")
    if account is not None:
        base = MuxedAccount.from_account(account).account_id if StrKey.is_valid_med25519_public_key(account) else account
        if base != token.account:
            raise BadRequest("'account' must be the authenticated account", status=403)


transactions, transaction = shared.transaction_views(PROTOCOL, KINDS, check_list_params=_check_account)


@csrf_exempt
@allow_methods("PATCH")
@requires_sep10_token
@handles_errors
def patch_transaction(request, token: SEP10Token, transaction_id: str):
    """Apply the fields the anchor asked for in ``required_info_updates``; the transaction goes back to the anchor."""
    try:
        transaction = shared.owned_transactions(token, PROTOCOL).get(id=transaction_id)
    except (Transaction.DoesNotExist, ValueError, ValidationError):
        raise NotFound(f"no transaction with id {transaction_id!r}") from None
    try:
        body = json.loads(request.body or b"null")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the request body must be JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("transaction"), dict) or not body["transaction"]:
        raise BadRequest('the body must be {"transaction": {<the requested fields>}}')
    if transaction.status != S.pending_transaction_info_update:
        raise BadRequest(f"the transaction is {transaction.status}; it takes updates only in pending_transaction_info_update")
    fields = body["transaction"]
    requested = set(transaction.required_info_updates or ())
    unrequested = sorted(set(fields) - requested)
    if unrequested:
        raise BadRequest(f"fields not requested: {', '.join(unrequested)}")
    integration = registered_deposit() if transaction.kind in (K.deposit, K.deposit_exchange) else registered_withdrawal()
    with db_transaction.atomic(), acting_as(ACTOR):
        try:
            integration.patch_transaction(token, request, fields, transaction)
        except NotImplementedError:
            raise BadRequest("this anchor does not take transaction updates", status=501) from None
        except ValueError as error:
            raise BadRequest(str(error)) from None
        if transaction.status == S.pending_transaction_info_update:
            transaction.status = S.pending_anchor
        transaction.required_info_updates = None
        transaction.required_info_message = None
        transaction.save()
    return JsonResponse({"transaction": transaction_json(transaction, protocol=PROTOCOL)})
