"""The bank's HTTP API on aiohttp.

aiohttp because it is already a pinned dependency (localnet's server uses it), is small and well kept, and
its AppRunner lets us bind port 0, print the real port on the ready line and stop cleanly on SIGTERM — which
the stdlib's http.server makes awkward. The handlers only parse and validate; store.Bank keeps the books.
"""

import json
import logging

from aiohttp import web

from .store import ANCHOR_ACCOUNT, Bank, BankError, parse_amount

log = logging.getLogger("sandbox_bank")
BANK = web.AppKey("bank", Bank)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors_and_settlement(request: web.Request, handler):
    """Every answer is JSON, bad input is a 4xx, and due payments settle before anyone looks."""
    try:
        request.app[BANK].settle_due()
        return await handler(request)
    except BankError as exc:
        return _error(exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error(500, "internal error")


async def _body(request: web.Request, required: set[str], optional: set[str] = frozenset()) -> dict:
    """A JSON object with exactly the allowed keys: a typo in a field name is an error, not a silent default.
    An empty body counts as {}, so body-less actions (close) need no "{}"."""
    try:
        body = json.loads(await request.read() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BankError(400, "the body must be JSON")
    if not isinstance(body, dict):
        raise BankError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - required - optional)
    if unknown:
        raise BankError(400, f"unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(body))
    if missing:
        raise BankError(400, f"missing field(s): {', '.join(missing)}")
    return body


def _text(body: dict, field: str, *, max_length: int = 200, optional: bool = False) -> str | None:
    """A string field, stripped. Required ones must not be blank; a missing optional one is None."""
    value = body.get(field)
    if optional and value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length or (not optional and not value.strip()):
        raise BankError(400, f"{field} must be a {'' if optional else 'non-empty '}string of at most "
                             f"{max_length} characters")
    return value.strip()


def _filters(request: web.Request, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(request.query) - set(allowed))
    if unknown:
        raise BankError(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return {key: request.query[key].strip() for key in allowed if key in request.query}


# accounts

async def index(request: web.Request) -> web.Response:
    return web.json_response({"bank": "sandbox", "anchor_account": ANCHOR_ACCOUNT})


async def create_account(request: web.Request) -> web.Response:
    body = await _body(request, {"name", "currency"})
    return web.json_response(request.app[BANK].create_account(body["name"], body["currency"]), status=201)


async def list_accounts(request: web.Request) -> web.Response:
    _filters(request, ())
    return web.json_response({"accounts": request.app[BANK].list_accounts()})


async def get_account(request: web.Request) -> web.Response:
    return web.json_response(request.app[BANK].get_account(request.match_info["id"]))


async def deposit_cash(request: web.Request) -> web.Response:
    body = await _body(request, {"amount"})
    return web.json_response(request.app[BANK].deposit_cash(request.match_info["id"], parse_amount(body["amount"])))


async def close_account(request: web.Request) -> web.Response:
    await _body(request, set())
    return web.json_response(request.app[BANK].close_account(request.match_info["id"]))


# transfers

async def create_transfer(request: web.Request) -> web.Response:
    body = await _body(request, {"from_account", "to_account", "amount", "currency"}, {"reference"})
    transfer = request.app[BANK].create_transfer(
        _text(body, "from_account"), _text(body, "to_account"), parse_amount(body["amount"]),
        _text(body, "currency", max_length=12), _text(body, "reference", max_length=140, optional=True) or "",
    )
    return web.json_response(transfer, status=201)


async def list_transfers(request: web.Request) -> web.Response:
    filters = _filters(request, ("to_account", "from_account", "reference"))
    return web.json_response({"transfers": request.app[BANK].list_transfers(filters)})


async def get_transfer(request: web.Request) -> web.Response:
    return web.json_response(request.app[BANK].get_transfer(request.match_info["id"]))


# payments

def _created_or_replayed(obj: dict, created: bool) -> web.Response:
    """201 for a new object; 200 plus Idempotent-Replayed for the same key and body seen before."""
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return web.json_response(obj, status=201 if created else 200, headers=headers)


async def create_payment(request: web.Request) -> web.Response:
    body = await _body(request, {"to_account", "amount", "idempotency_key"}, {"currency", "memo"})
    payment, created = request.app[BANK].create_payment(
        _text(body, "to_account"), parse_amount(body["amount"]),
        _text(body, "currency", max_length=12, optional=True),
        _text(body, "memo", max_length=140, optional=True) or "", _text(body, "idempotency_key"),
    )
    return _created_or_replayed(payment, created)


async def list_payments(request: web.Request) -> web.Response:
    filters = _filters(request, ("to_account", "idempotency_key", "status"))
    return web.json_response({"payments": request.app[BANK].list_payments(filters)})


async def get_payment(request: web.Request) -> web.Response:
    return web.json_response(request.app[BANK].get_payment(request.match_info["id"]))


async def settle_payment(request: web.Request) -> web.Response:
    body = await _body(request, {"status"}, {"reason"})
    if body["status"] not in ("delivered", "failed"):
        raise BankError(400, 'status must be "delivered" or "failed"')
    payment = request.app[BANK].settle_payment(
        request.match_info["id"], body["status"], _text(body, "reason", optional=True)
    )
    return web.json_response(payment)


# refunds

async def create_refund(request: web.Request) -> web.Response:
    body = await _body(request, {"reference", "amount", "idempotency_key"}, {"currency", "beneficiary", "reason"})
    refund, created = request.app[BANK].create_refund(
        _text(body, "reference", max_length=140), parse_amount(body["amount"]),
        _text(body, "currency", max_length=12, optional=True),
        _text(body, "beneficiary", optional=True) or "",
        _text(body, "reason", max_length=500, optional=True) or "", _text(body, "idempotency_key"),
    )
    return _created_or_replayed(refund, created)


async def list_refunds(request: web.Request) -> web.Response:
    filters = _filters(request, ("reference", "idempotency_key"))
    return web.json_response({"refunds": request.app[BANK].list_refunds(filters)})


async def get_refund(request: web.Request) -> web.Response:
    return web.json_response(request.app[BANK].get_refund(request.match_info["id"]))


def make_app(bank: Bank) -> web.Application:
    app = web.Application(middlewares=[_errors_and_settlement])
    app[BANK] = bank
    app.add_routes([
        web.get("/", index),
        web.post("/accounts", create_account),
        web.get("/accounts", list_accounts),
        web.get("/accounts/{id}", get_account),
        web.post("/accounts/{id}/cash", deposit_cash),
        web.post("/accounts/{id}/close", close_account),
        web.post("/transfers", create_transfer),
        web.get("/transfers", list_transfers),
        web.get("/transfers/{id}", get_transfer),
        web.post("/payments", create_payment),
        web.get("/payments", list_payments),
        web.get("/payments/{id}", get_payment),
        web.post("/payments/{id}/settle", settle_payment),
        web.post("/refunds", create_refund),
        web.get("/refunds", list_refunds),
        web.get("/refunds/{id}", get_refund),
    ])
    return app
