"""Request parsing and validation shared by the SEP-6, SEP-12 and SEP-24 views.

Views raise ``BadRequest`` (or a subclass with another status) from anywhere; ``handles_errors`` turns it
into the SEP error body ``{"error": "..."}``. Request bodies may be JSON, form-urlencoded or multipart.
"""

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from functools import wraps
from urllib.parse import urlparse

from django.http import JsonResponse, QueryDict
from django.utils import translation
from stellar_sdk import StrKey

from polaris.conf import settings

UINT64_MAX = 2**64 - 1


class BadRequest(Exception):
    """A request the SEP says to refuse; ``status`` is the HTTP status of the ``{"error": ...}`` answer."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class NotFound(BadRequest):
    status = 404


def error_response(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def handles_errors(view):
    """Answer ``BadRequest`` raised by the view with its ``{"error": ...}`` body and status."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except BadRequest as error:
            return error_response(str(error), error.status)

    return wrapper


def body_params(request) -> dict:
    """The request body as a flat dict, from JSON, form-urlencoded or multipart (files included)."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body
    if request.method == "POST":
        data, files = request.POST, request.FILES
    elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # Django parses bodies of POST only; PUT/PATCH forms are parsed here the same way.
        if request.content_type == "multipart/form-data":
            try:
                data, files = request.parse_file_upload(request.META, request)
            except Exception as error:  # MultiPartParserError and friends: a malformed body
                raise BadRequest(f"malformed multipart body: {error}") from None
        else:
            data, files = QueryDict(request.body, encoding=request.encoding), {}
    else:
        data, files = QueryDict(), {}
    params = {key: data.get(key) for key in data}
    params.update({key: files[key] for key in files})
    return params


def activate_language(lang) -> str:
    """Switch to ``lang`` when we support it, else English; never an error (digest §1)."""
    try:
        code = translation.get_supported_language_variant(str(lang or "en"))
    except LookupError:
        code = "en"
    translation.activate(code)
    return code


def string_param(params: dict, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise BadRequest(f"'{name}' must be a string")
    if "\x00" in str(value):  # PostgreSQL refuses NUL in text: a query with it would be a 500
        raise BadRequest(f"'{name}' must not contain NUL characters")
    return str(value).strip()


def bool_param(params: dict, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"'{name}' must be true or false")


def amount_param(params: dict, name: str = "amount") -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadRequest(f"'{name}' must be a decimal number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadRequest(f"'{name}' must be a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise BadRequest(f"'{name}' must be a positive number")
    if amount.as_tuple().exponent < -7 or amount >= Decimal(10) ** 23:
        raise BadRequest(f"'{name}' has more than 7 decimals or is too large")
    return amount


def check_amount_limits(amount: Decimal | None, minimum, maximum, asset_code: str) -> None:
    if amount is None:
        return
    if minimum is not None and amount < minimum:
        raise BadRequest(f"'amount' is below the minimum of {minimum.normalize():f} {asset_code}")
    if maximum is not None and amount > maximum:
        raise BadRequest(f"'amount' is above the maximum of {maximum.normalize():f} {asset_code}")


def stellar_account_param(params: dict, name: str = "account") -> str | None:
    """A ``G...`` or ``M...`` account; contract (``C...``) accounts need SEP-45, which we do not offer."""
    value = string_param(params, name)
    if value is None:
        return None
    if StrKey.is_valid_ed25519_public_key(value) or StrKey.is_valid_med25519_public_key(value):
        return value
    if StrKey.is_valid_contract(value):
        raise BadRequest(f"'{name}': contract (C...) accounts are not supported by this anchor")
    raise BadRequest(f"'{name}' must be a valid Stellar account (G... or M...)")


def memo_params(params: dict, memo_name: str = "memo", type_name: str = "memo_type") -> tuple[str | None, str | None]:
    """A validated (memo, memo_type). Without a type, an integer that fits uint64 is an ID memo, else text."""
    memo = string_param(params, memo_name)
    memo_type = string_param(params, type_name)
    if memo is None:
        if memo_type is not None and memo_type not in ("id", "text", "hash"):
            raise BadRequest(f"'{type_name}' must be id, text or hash")
        return None, None
    if memo_type is None:
        memo_type = "id" if memo.isdigit() and int(memo) <= UINT64_MAX else "text"
    if memo_type == "id":
        if not (memo.isascii() and memo.isdigit()) or int(memo) > UINT64_MAX:
            raise BadRequest(f"'{memo_name}' must be an unsigned 64-bit integer for an id memo")
        memo = str(int(memo))
    elif memo_type == "text":
        if len(memo.encode()) > 28:
            raise BadRequest(f"'{memo_name}' is longer than 28 bytes, the limit of a text memo")
    elif memo_type == "hash":
        try:
            decoded = base64.b64decode(memo, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != 32:
            raise BadRequest(f"'{memo_name}' must be 32 bytes in base64 for a hash memo")
    else:
        raise BadRequest(f"'{type_name}' must be id, text or hash")
    return memo, memo_type


def callback_url_param(params: dict, name: str, *, allow_post_message: bool = False) -> str | None:
    """An https URL (http too in LOCAL_MODE), or ``postMessage`` where the SEP allows it."""
    value = string_param(params, name)
    if value is None:
        return None
    if allow_post_message and value == "postMessage":
        return value
    parsed = urlparse(value)
    schemes = ("http", "https") if settings.LOCAL_MODE else ("https",)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise BadRequest(f"'{name}' must be an absolute {' or '.join(schemes)} URL")
    if parsed.hostname in settings.CALLBACK_REQUEST_DOMAIN_DENYLIST:
        raise BadRequest(f"'{name}': callbacks to {parsed.hostname} are not allowed")
    return value


def allow_methods(*methods: str):
    """Answer other methods with 405 and a SEP error body instead of Django's empty one."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error_response(f"method {request.method} is not allowed here", status=405)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def check_refund_memo(params: dict) -> dict:
    """``refund_memo`` and ``refund_memo_type`` come together and form a valid memo (SEP-6/24 withdraw).

    Returns them as Transaction fields, so a refund can later go back with the memo the user asked for.
    """
    if (params.get("refund_memo") in (None, "")) != (params.get("refund_memo_type") in (None, "")):
        raise BadRequest("'refund_memo' and 'refund_memo_type' must be sent together")
    memo, memo_type = memo_params(params, "refund_memo", "refund_memo_type")
    return {"refund_memo": memo, "refund_memo_type": memo_type}
