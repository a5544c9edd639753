"""Query and path parameters as Horizon parses them, and HAL collection pages with absolute links."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from stellar_sdk import StrKey

from .problems import bad_request

DEFAULT_LIMIT = 10
MAX_LIMIT = 200
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_CB_CURSOR = re.compile(r"^\d+-[0-9a-fA-F]+$")
_ASSET_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


@dataclass
class Paging:
    cursor: int | str | None  # what the ledger gets
    order: str
    limit: int
    raw_cursor: str  # what the links echo


def base_url(request) -> str:
    """Links point at the host the client used, as Horizon's do, so `.next()` works from any address."""
    return f"{request.scheme}://{request.host}"


def paging(request, now_cursor, *, string_cursor: bool = False) -> Paging:
    """Parses cursor/order/limit; `Last-Event-ID` wins over `cursor`, so SSE clients resume where they left off."""
    query = request.query
    raw = request.headers.get("Last-Event-ID") or query.get("cursor", "")
    order = query.get("order", "") or "asc"
    if order not in ("asc", "desc"):
        raise bad_request("order", "order: invalid value, must be 'asc' or 'desc'")
    limit_raw = query.get("limit", "")
    if limit_raw == "":
        limit = DEFAULT_LIMIT
    else:
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            raise bad_request("limit", f"limit: must be an integer between 1 and {MAX_LIMIT}")
        limit = int(limit_raw)
    if raw == "":
        cursor = None
    elif raw == "now":
        # Claimable balances page by "<ledger>-<id>"; the largest id of the latest ledger means "after now".
        cursor = f"{now_cursor() >> 32}-{'f' * 72}" if string_cursor else now_cursor()
    elif string_cursor:
        if not _CB_CURSOR.match(raw):
            raise bad_request("cursor", "cursor: must be of the form <ledger>-<balance id>")
        cursor = raw
    else:
        if not raw.isdigit() or int(raw) >= 2**63:
            raise bad_request("cursor", "cursor: must be a non-negative 64-bit integer or 'now'")
        cursor = int(raw)
    return Paging(cursor, order, limit, raw)


def flag(request, name: str) -> bool:
    value = request.query.get(name, "")
    if value == "" or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise bad_request(name, f"{name}: must be true or false")


def join_transactions(request) -> bool:
    value = request.query.get("join", "")
    if value not in ("", "transactions"):
        raise bad_request("join", "join: the only accepted value is 'transactions'")
    return value == "transactions"


def account_id(value: str, field: str = "account_id") -> str:
    if not StrKey.is_valid_ed25519_public_key(value):
        raise bad_request(field, f"{field}: must be a valid Stellar account address (G...)")
    return value


def optional_account(request, name: str) -> str | None:
    value = request.query.get(name, "")
    return account_id(value, name) if value else None


def tx_hash(value: str) -> str:
    if not _HASH.match(value):
        raise bad_request("tx_id", "tx_id: must be a 64-character hex transaction hash")
    return value.lower()


def ledger_seq(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 2**32:
        raise bad_request("ledger_id", "ledger_id: must be a positive 32-bit ledger sequence")
    return int(value)


def operation_id(value: str) -> int:
    if not value.isdigit() or int(value) >= 2**63:
        raise bad_request("id", "id: must be a non-negative 64-bit operation id")
    return int(value)


def asset(request) -> str | None:
    """`native` or `CODE:ISSUER`, the form the ledger's filters take."""
    value = request.query.get("asset", "")
    if value == "" or value == "native":
        return value or None
    code, _, issuer = value.partition(":")
    if not _ASSET_CODE.match(code) or not StrKey.is_valid_ed25519_public_key(issuer):
        raise bad_request("asset", "asset: must be 'native' or 'CODE:ISSUER'")
    return value


def page(request, records: list[dict], p: Paging) -> dict:
    """A HAL page; next/prev move past the last/first record, or keep the request's cursor when empty."""
    path = base_url(request) + request.path
    kept = [(k, v) for k, v in request.query.items() if k not in ("cursor", "order", "limit")]

    def href(cursor: str, order: str) -> str:
        return path + "?" + urlencode(kept + [("cursor", cursor), ("limit", str(p.limit)), ("order", order)])

    flipped = "desc" if p.order == "asc" else "asc"
    last = records[-1]["paging_token"] if records else p.raw_cursor
    first = records[0]["paging_token"] if records else p.raw_cursor
    return {
        "_links": {
            "self": {"href": href(p.raw_cursor, p.order)},
            "next": {"href": href(last, p.order)},
            "prev": {"href": href(first, flipped)},
        },
        "_embedded": {"records": records},
    }
