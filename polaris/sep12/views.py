"""SEP-12 v1.15 KYC API over the registered ``CustomerIntegration``.

Who the customer is comes from the SEP-10 token (§5.2): a sent ``account`` must be the token's, a sent
``memo`` must equal the token's memo (or muxed id) when it has one, and any memo is accepted for a token
without one (a custodial or sending anchor registering its users). The integration then gets ``account``,
``memo``, ``memo_type`` and ``muxed_account`` already checked. Its exceptions map to statuses:
``ValueError`` 400, ``ObjectDoesNotExist`` 404, ``NotImplementedError`` 501. Auth failures are 401.
"""

from functools import wraps

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from stellar_sdk import MuxedAccount

from polaris.integrations import registered_customer
from polaris.models import Transaction
from polaris.sep10.auth import SEP10Token, requires_sep10_token
from polaris.shared.http import (
    BadRequest,
    NotFound,
    activate_language,
    allow_methods,
    body_params,
    callback_url_param,
    handles_errors,
    memo_params,
    string_param,
)
from polaris.shared.sep9 import SEP9_FIELDS, sep9_fields
from polaris.shared.transactions import owned_by

CUSTOMER_STATUSES = {"ACCEPTED", "PROCESSING", "NEEDS_INFO", "REJECTED"}
FIELD_TYPES = {"string", "binary", "number", "date"}
PROVIDED_FIELD_STATUSES = {"ACCEPTED", "PROCESSING", "REJECTED", "VERIFICATION_REQUIRED"}


class IntegrationError(Exception):
    """The integration answered something the SEP does not allow; a 500 that names the problem."""


def calls_integration(view):
    """Map the integration's exceptions to the SEP-12 statuses."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        except ObjectDoesNotExist as error:
            raise NotFound(str(error) or "no such customer") from None
        except NotImplementedError:
            raise BadRequest("this anchor does not support this KYC operation", status=501) from None
        except IntegrationError as error:
            raise BadRequest(f"the anchor's KYC integration failed: {error}", status=500) from None

    return wrapper


def _check_account(account: str | None, token: SEP10Token) -> None:
    if account is not None and account not in (token.account, token.muxed_account):
        raise BadRequest("'account' does not match the authenticated account", status=403)


def identify(params: dict, token: SEP10Token) -> dict:
    """The checked identity of the customer a request is about (SEP digest §5.2)."""
    _check_account(string_param(params, "account"), token)
    memo, memo_type = memo_params(params)
    token_memo = token.memo
    if token.muxed_account:
        token_memo = MuxedAccount.from_account(token.muxed_account).account_muxed_id
    if token_memo is not None:
        if memo is not None and (memo_type != "id" or int(memo) != token_memo):
            raise BadRequest("'memo' does not match the memo of the authenticated account", status=403)
        memo, memo_type = str(token_memo), "id"
    identity = {
        "id": string_param(params, "id"),
        "account": token.account,
        "memo": memo,
        "memo_type": memo_type,
        "muxed_account": token.muxed_account,
        "type": string_param(params, "type"),
    }
    transaction_id = string_param(params, "transaction_id")
    if transaction_id is not None:
        if identity["type"] is None:
            raise BadRequest("'type' is required with 'transaction_id'")
        try:
            Transaction.objects.filter(owned_by(token)).get(id=transaction_id)
        except (Transaction.DoesNotExist, ValueError, ValidationError):
            raise NotFound(f"no transaction {transaction_id!r} for this account") from None
        identity["transaction_id"] = transaction_id
    return identity


def _check_fields(fields, name: str, statuses: set | None = None) -> None:
    if not isinstance(fields, dict):
        raise IntegrationError(f"'{name}' must be an object")
    for key, field in fields.items():
        if not isinstance(field, dict) or field.get("type") not in FIELD_TYPES or not field.get("description"):
            raise IntegrationError(f"{name}.{key} needs a type ({', '.join(sorted(FIELD_TYPES))}) and a description")
        if statuses is not None and field.get("status") is not None and field["status"] not in statuses:
            raise IntegrationError(f"{name}.{key} has an unknown status {field['status']!r}")


def check_customer(customer) -> dict:
    """The integration's GET answer, checked against SEP-12 §GET before a wallet sees it."""
    if not isinstance(customer, dict) or customer.get("status") not in CUSTOMER_STATUSES:
        raise IntegrationError(f"status must be one of {', '.join(sorted(CUSTOMER_STATUSES))}")
    if customer["status"] == "NEEDS_INFO" and not customer.get("fields"):
        raise IntegrationError("a NEEDS_INFO customer must list the 'fields' needed")
    if customer["status"] == "REJECTED" and not customer.get("message"):
        raise IntegrationError("a REJECTED customer must have a 'message'")
    if "fields" in customer:
        _check_fields(customer["fields"], "fields")
    if "provided_fields" in customer:
        _check_fields(customer["provided_fields"], "provided_fields", PROVIDED_FIELD_STATUSES)
    if customer.get("id") is not None:
        customer = {**customer, "id": str(customer["id"])}
    return customer


@csrf_exempt
@allow_methods("GET", "PUT")
@requires_sep10_token(status=401, style="error")
@handles_errors
@calls_integration
def customer(request, token: SEP10Token):
    if request.method == "GET":
        params = request.GET.dict()
        params["lang"] = activate_language(params.get("lang"))
        answer = registered_customer().get(token, request, {**params, **identify(params, token)})
        return JsonResponse(check_customer(answer))
    params = body_params(request)
    customer_id = registered_customer().put(token, request, {**sep9_fields(params), **identify(params, token)})
    if customer_id is None or str(customer_id) == "":
        raise IntegrationError("put() must return the customer id")
    return JsonResponse({"id": str(customer_id)}, status=202)


@csrf_exempt
@allow_methods("DELETE")
@requires_sep10_token(status=401, style="error")
@handles_errors
@calls_integration
def delete_customer(request, token: SEP10Token, account: str):
    """``DELETE /customer/<account>``: only the account's own token may delete its data."""
    if account not in (token.account, token.muxed_account):
        raise BadRequest("a token may delete only its own account's data", status=403)
    identity = identify(body_params(request), token)
    registered_customer().delete(token, request, token.account, identity["memo"], identity["memo_type"])
    return JsonResponse({})


@csrf_exempt
@allow_methods("PUT")
@requires_sep10_token(status=401, style="error")
@handles_errors
@calls_integration
def callback(request, token: SEP10Token):
    params = body_params(request)
    url = callback_url_param(params, "url")
    if url is None:
        raise BadRequest("'url' is required")
    registered_customer().callback(token, request, {**identify(params, token), "url": url})
    return JsonResponse({})


@csrf_exempt
@allow_methods("PUT")
@requires_sep10_token(status=401, style="error")
@handles_errors
@calls_integration
def verification(request, token: SEP10Token):
    """Deprecated ``PUT /customer/verification``: ``<field>_verification`` codes for an ``id``."""
    params = body_params(request)
    codes = {name: value for name, value in params.items() if name.endswith("_verification")
             and name[: -len("_verification")] in SEP9_FIELDS}
    if string_param(params, "id") is None or not codes:
        raise BadRequest("'id' and at least one <sep9 field>_verification are required")
    answer = registered_customer().put_verification(token, request, token.account, {**codes, **identify(params, token)})
    return JsonResponse(check_customer(answer))
