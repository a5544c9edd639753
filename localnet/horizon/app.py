"""The Horizon HTTP server over `localnet.ledger.Network`: routes, submission, friendbot, faults, the closer.

Everything runs on one event loop thread, which is the only caller of the (synchronous) ledger.
"""

import asyncio
import base64
import json
import logging
import time
from functools import partial

from aiohttp import web
from stellar_sdk import StrKey

from localnet.ledger import MalformedEnvelope, Network

from . import params, problems, resources, streams
from .problems import Problem

log = logging.getLogger("localnet.horizon")

HAL_CONTENT_TYPE = "application/hal+json; charset=utf-8"
# Horizon gives up waiting for a submitted transaction after 30 s and answers 504.
SUBMIT_TIMEOUT = 30.0
FAULT_MODES = ("apply_then_504", "reject_503", "drop_streams")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def hal(body: dict, status: int = 200) -> web.Response:
    # Bytes with a ready header: `text=` would make aiohttp parse the charset back out (~4 us a response).
    return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": HAL_CONTENT_TYPE})


class Horizon:
    """Serves one Network; `run_closer()` closes a ledger every `close_interval` seconds."""

    def __init__(self, network: Network, close_interval: float, faults: bool = False):
        self.network = network
        self.close_interval = close_interval
        self.faults_enabled = faults
        self.fault_mode: str | None = None
        self.fault_count = 0
        self.hub = streams.StreamHub()
        self.latest = network.latest_ledger()
        self._waiters: dict[str, list[asyncio.Future]] = {}

    # ---- the ledger clock -------------------------------------------------------------------------

    async def run_closer(self) -> None:
        """Closes on a fixed schedule; after a stall it resumes the schedule instead of closing in a burst."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline += self.close_interval
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            self.close_ledger()
            if loop.time() > deadline + self.close_interval:
                deadline = loop.time()

    def close_ledger(self) -> dict:
        started = time.time()
        self.latest = self.network.close_ledger()
        closed = time.time()
        # The bench reads this line: `closed_at` in the ledger has 1-second resolution, this one does not.
        log.info(
            "closed ledger %d at %.6f in %.1f ms: %d ops in %d txs, %d failed txs",
            self.latest["sequence"],
            closed,
            (closed - started) * 1000,
            self.latest["operation_count"],
            self.latest["successful_transaction_count"],
            self.latest["failed_transaction_count"],
        )
        for tx_hash in list(self._waiters):
            result = self.network.result(tx_hash)
            if result is not None:
                for fut in self._waiters.pop(tx_hash):
                    if not fut.done():
                        fut.set_result(result)
        self.hub.notify()
        return self.latest

    async def _await_result(self, tx_hash: str):
        """The transaction's result once it is in a ledger, or None after Horizon's submission timeout."""
        result = self.network.result(tx_hash)
        if result is not None:
            return result
        fut = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tx_hash, []).append(fut)
        try:
            return await asyncio.wait_for(fut, SUBMIT_TIMEOUT)
        except TimeoutError:
            return None
        finally:
            waiting = self._waiters.get(tx_hash)
            if waiting and fut in waiting:
                waiting.remove(fut)
                if not waiting:
                    del self._waiters[tx_hash]

    # ---- the application --------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.on_response_prepare.append(self._common_headers)
        get = [
            ("/", self.root),
            ("/accounts/{account_id}", self.account),
            ("/accounts/{account_id}/data/{key}", self.account_data),
            ("/accounts/{account_id}/transactions", self.account_transactions),
            ("/accounts/{account_id}/operations", partial(self.account_operations, payments=False)),
            ("/accounts/{account_id}/payments", partial(self.account_operations, payments=True)),
            ("/transactions", self.transactions),
            ("/transactions/{tx_id}", self.transaction),
            ("/transactions/{tx_id}/operations", partial(self.transaction_operations, payments=False)),
            ("/transactions/{tx_id}/payments", partial(self.transaction_operations, payments=True)),
            ("/ledgers", self.ledgers),
            ("/ledgers/{ledger_id}", self.ledger),
            ("/ledgers/{ledger_id}/transactions", self.ledger_transactions),
            ("/ledgers/{ledger_id}/operations", partial(self.ledger_operations, payments=False)),
            ("/ledgers/{ledger_id}/payments", partial(self.ledger_operations, payments=True)),
            ("/operations", partial(self.operations, payments=False)),
            ("/operations/{id}", self.operation),
            ("/payments", partial(self.operations, payments=True)),
            ("/fee_stats", self.fee_stats),
            ("/claimable_balances", self.claimable_balances),
            ("/claimable_balances/{id}", self.claimable_balance),
            ("/claimable_balances/{id}/transactions", self.claimable_balance_transactions),
            ("/claimable_balances/{id}/operations", self.claimable_balance_operations),
            ("/friendbot", self.friendbot),
        ]
        for path, handler in get:
            app.router.add_get(path, handler, allow_head=False)
        app.router.add_post("/transactions", self.submit)
        app.router.add_post("/transactions_async", self.submit_async)
        app.router.add_post("/friendbot", self.friendbot)
        if self.faults_enabled:
            app.router.add_get("/_localnet/faults", self.faults_state)
            app.router.add_post("/_localnet/faults", self.set_fault)
        return app

    @web.middleware
    async def _middleware(self, request, handler):
        if request.method == "OPTIONS":
            return web.Response(
                headers={"Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Allow-Headers": "*"}
            )
        try:
            return await handler(request)
        except Problem as p:
            return p.response()
        except web.HTTPException as e:
            if e.status in (404, 405):
                return problems.not_found().response()
            raise
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path_qs)
            return problems.server_error().response()

    async def _common_headers(self, request, response) -> None:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "Date, Latest-Ledger"
        response.headers["Latest-Ledger"] = str(self.latest["sequence"])

    # ---- collections ------------------------------------------------------------------------------

    async def _collection(self, request, fetch, render, *, string_cursor=False, field="cursor"):
        """A page, or an SSE stream with the same records; `fetch(cursor=, order=, limit=)` is a ledger query."""
        p = params.paging(request, self.network.now_cursor, string_cursor=string_cursor)
        b = params.base_url(request)
        if streams.wants_stream(request):
            return await streams.serve(
                request,
                self.hub,
                lambda cursor, limit: self._query(field, fetch, cursor=cursor, order="asc", limit=limit),
                lambda r: render(b, r),
                p.cursor,
                p.limit,
                str if string_cursor else int,
            )
        records = self._query(field, fetch, cursor=p.cursor, order=p.order, limit=p.limit)
        return hal(params.page(request, [render(b, r) for r in records], p))

    @staticmethod
    def _query(field, fn, **kwargs):
        """The ledger raises ValueError for ids it cannot parse; that is the client's 400, not our 500."""
        try:
            return fn(**kwargs)
        except ValueError as e:
            raise problems.bad_request(field, str(e)) from e

    def _render_operation(self, request):
        join = params.join_transactions(request)

        def render(b, rec):
            return resources.operation(b, rec, self.network.transaction(rec["transaction_hash"]) if join else None)

        return render

    def _transactions(self, request, field="cursor", **filters):
        fetch = partial(self.network.transactions, include_failed=params.flag(request, "include_failed"), **filters)
        return self._collection(request, fetch, resources.transaction, field=field)

    async def transactions(self, request):
        return await self._transactions(request)

    async def account_transactions(self, request):
        return await self._transactions(request, account=params.account_id(request.match_info["account_id"]))

    async def ledger_transactions(self, request):
        return await self._transactions(request, ledger=params.ledger_seq(request.match_info["ledger_id"]))

    async def claimable_balance_transactions(self, request):
        return await self._transactions(request, "id", claimable_balance=request.match_info["id"])

    def _operations(self, request, payments, **filters):
        fetch = partial(
            self.network.operations,
            payments_only=payments,
            include_failed=params.flag(request, "include_failed"),
            **filters,
        )
        return self._collection(request, fetch, self._render_operation(request), field="id")

    async def operations(self, request, payments):
        return await self._operations(request, payments)

    async def account_operations(self, request, payments):
        return await self._operations(request, payments, account=params.account_id(request.match_info["account_id"]))

    async def transaction_operations(self, request, payments):
        return await self._operations(request, payments, tx_hash=params.tx_hash(request.match_info["tx_id"]))

    async def ledger_operations(self, request, payments):
        return await self._operations(request, payments, ledger=params.ledger_seq(request.match_info["ledger_id"]))

    async def claimable_balance_operations(self, request):
        return await self._operations(request, False, claimable_balance=request.match_info["id"])

    async def ledgers(self, request):
        return await self._collection(request, self.network.ledgers, resources.ledger)

    async def claimable_balances(self, request):
        fetch = partial(
            self.network.claimable_balances,
            claimant=params.optional_account(request, "claimant"),
            sponsor=params.optional_account(request, "sponsor"),
            asset=params.asset(request),
        )
        return await self._collection(request, fetch, resources.claimable_balance, string_cursor=True)

    # ---- single resources -------------------------------------------------------------------------

    async def root(self, request):
        b = params.base_url(request)
        return hal(resources.root(b, self.latest, self.network.passphrase))

    async def account(self, request):
        rec = self.network.account(params.account_id(request.match_info["account_id"]))
        if rec is None:
            raise problems.not_found()
        return hal(resources.account(params.base_url(request), rec))

    async def account_data(self, request):
        value = self.network.account_data(
            params.account_id(request.match_info["account_id"]), request.match_info["key"]
        )
        if value is None:
            raise problems.not_found()
        if "application/octet-stream" in request.headers.get("Accept", ""):
            return web.Response(body=value, content_type="application/octet-stream")
        return hal({"value": base64.b64encode(value).decode()})

    async def transaction(self, request):
        rec = self.network.transaction(params.tx_hash(request.match_info["tx_id"]))
        if rec is None:
            raise problems.not_found()
        return hal(resources.transaction(params.base_url(request), rec))

    async def ledger(self, request):
        rec = self.network.ledger(params.ledger_seq(request.match_info["ledger_id"]))
        if rec is None:
            raise problems.not_found()
        return hal(resources.ledger(params.base_url(request), rec))

    async def operation(self, request):
        rec = self.network.operation(params.operation_id(request.match_info["id"]))
        if rec is None:
            raise problems.not_found()
        return hal(self._render_operation(request)(params.base_url(request), rec))

    async def claimable_balance(self, request):
        rec = self._query("id", self.network.claimable_balance, balance_id=request.match_info["id"])
        if rec is None:
            raise problems.not_found()
        return hal(resources.claimable_balance(params.base_url(request), rec))

    async def fee_stats(self, request):
        return hal(self.network.fee_stats())

    # ---- submission -------------------------------------------------------------------------------

    async def _envelope(self, request) -> str:
        content_type = request.content_type
        if content_type not in FORM_TYPES:
            raise problems.unsupported_media_type()
        form = await request.post()
        tx = form.get("tx")
        if not isinstance(tx, str) or not tx:
            raise problems.bad_request("tx", "tx: missing required form field")
        return tx

    def _take_fault(self) -> str | None:
        """Consumes one submission fault, if armed."""
        if self.fault_count <= 0:
            return None
        self.fault_count -= 1
        mode = self.fault_mode
        if self.fault_count == 0:
            self.fault_mode = None
        return mode

    def _submit_envelope(self, envelope: str):
        try:
            return self.network.submit(envelope)
        except MalformedEnvelope as e:
            raise problems.tx_malformed(envelope) from e

    async def _accept(self, request):
        """Reads the form's envelope, takes an armed fault and submits; returns (envelope, fault, outcome)."""
        envelope = await self._envelope(request)
        fault = self._take_fault()
        if fault == "reject_503":
            raise problems.service_unavailable()
        return envelope, fault, self._submit_envelope(envelope)

    async def submit(self, request):
        """POST /transactions: waits for the ledger, like Horizon's synchronous submission."""
        envelope, fault, outcome = await self._accept(request)
        if outcome.status == "ERROR":
            raise problems.tx_failed(envelope, outcome.result)
        result = await self._await_result(outcome.hash)
        if result is None or fault == "apply_then_504":
            raise problems.submission_timeout(outcome.hash, envelope)
        if not result.successful:
            raise problems.tx_failed(envelope, result)
        return hal(resources.transaction(params.base_url(request), self.network.transaction(outcome.hash)))

    async def submit_async(self, request):
        """POST /transactions_async: answers as soon as the transaction is queued (or rejected)."""
        envelope, fault, outcome = await self._accept(request)
        if outcome.status == "ERROR":
            body = {"tx_status": "ERROR", "hash": outcome.hash, "error_result_xdr": outcome.result.result_xdr}
            return hal(body, 400)
        if fault == "apply_then_504":
            raise problems.submission_timeout(outcome.hash, envelope)
        return hal({"tx_status": outcome.status, "hash": outcome.hash}, 201 if outcome.status == "PENDING" else 409)

    async def friendbot(self, request):
        """Funds 10,000 XLM from the root account and answers with the Transaction resource, as friendbot does."""
        addr = request.query.get("addr", "")
        if not StrKey.is_valid_ed25519_public_key(addr):
            raise problems.bad_request("addr", "addr: must be a valid Stellar account address (G...)")
        if self.network.account(addr) is not None:
            raise problems.bad_request("addr", "account already funded to starting balance")
        outcome = self.network.fund(addr)
        if outcome.status == "ERROR":
            raise problems.bad_request("addr", f"friendbot payment rejected: {outcome.result.result_codes}")
        result = await self._await_result(outcome.hash)
        if result is None:
            raise problems.submission_timeout(outcome.hash, "")
        if not result.successful:
            raise problems.bad_request("addr", f"friendbot payment failed: {result.result_codes}")
        return hal(resources.transaction(params.base_url(request), self.network.transaction(outcome.hash)))

    # ---- faults (only with --faults) --------------------------------------------------------------

    def _fault_state(self) -> dict:
        return {"mode": self.fault_mode, "count": self.fault_count, "open_streams": self.hub.open_streams}

    async def faults_state(self, request):
        return hal(self._fault_state())

    async def set_fault(self, request):
        try:
            body = await request.json()
        except ValueError as e:
            raise problems.bad_request("body", "body: must be JSON like {\"mode\": ..., \"count\": N}") from e
        mode = body.get("mode") if isinstance(body, dict) else None
        count = body.get("count", 1) if isinstance(body, dict) else None
        if mode not in FAULT_MODES:
            raise problems.bad_request("mode", f"mode: one of {', '.join(FAULT_MODES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise problems.bad_request("count", "count: a non-negative integer")
        if mode == "drop_streams":
            self.hub.drop_all()
        else:
            self.fault_mode, self.fault_count = (mode, count) if count else (None, 0)
        return hal(self._fault_state())
