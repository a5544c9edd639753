"""Horizon requests, with one rule: a submission whose outcome we did not see is ``unknown``, never failed.

Every call goes through stellar_sdk's ``Server(settings.HORIZON_URI)`` with the SDK's automatic retries
turned off: its client retries POSTs on 503/504 by itself, which would hide an unknown outcome from the
engine (harmless for the same envelope, but the engine must know to resolve it by hash).
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime

from stellar_sdk import Server
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import BadRequestError, BaseRequestError, NotFoundError
from stellar_sdk.xdr import TransactionResult

from polaris.conf import settings

GET_TIMEOUT_SECONDS = 10
# Horizon's synchronous submission answers within one or two ledgers, or times out itself (504).
POST_TIMEOUT_SECONDS = 65

_local = threading.local()


def server() -> Server:
    """One Server per thread (its HTTP session is not shared across threads) and Horizon URI."""
    uri = settings.HORIZON_URI
    cached = getattr(_local, "server", None)
    if cached is None or cached[0] != uri:
        client = RequestsClient(num_retries=0, request_timeout=GET_TIMEOUT_SECONDS, post_timeout=POST_TIMEOUT_SECONDS)
        cached = (uri, Server(uri, client=client))
        _local.server = cached
    return cached[1]


def load_account(account_id: str) -> dict | None:
    """The account's Horizon JSON, or None when it does not exist. Other errors raise."""
    try:
        return server().accounts().account_id(account_id).call()
    except NotFoundError:
        return None


def find_transaction(tx_hash: str) -> dict | None:
    """The transaction by hash (successful or failed), or None when no ledger holds it (yet)."""
    try:
        return server().transactions().transaction(tx_hash).call()
    except NotFoundError:
        return None


def latest_close_time() -> int:
    """The close time of the network's latest ledger, in unix seconds: the clock time bounds are checked
    against (it may differ from ours)."""
    records = server().ledgers().order(desc=True).limit(1).call()["_embedded"]["records"]
    return int(datetime.fromisoformat(records[0]["closed_at"].replace("Z", "+00:00")).timestamp())


def fee_per_operation(bump: int = 1) -> int:
    """What to bid per operation: MAX_TRANSACTION_FEE_STROOPS when set, else the 90th percentile of recent
    charged fees (at least the base fee), multiplied by ``bump`` after ``tx_insufficient_fee``, never above
    the configured maximum."""
    configured = settings.MAX_TRANSACTION_FEE_STROOPS
    if configured:
        return int(configured)
    stats = server().fee_stats().call()
    base = int(stats.get("last_ledger_base_fee") or 100)
    recent = int(stats.get("fee_charged", {}).get("p90") or base)
    return max(base, recent) * bump


@dataclass
class SubmitOutcome:
    """``applied``: in a ledger (``record`` is the Horizon transaction, which may have failed);
    ``failed``: a 400 with result codes (applied and failed, or refused by validation: either way this
    envelope will never pay anything); ``unknown``: a timeout, 5xx or connection error, so it may still land."""

    kind: str
    record: dict | None = None
    result_codes: dict = field(default_factory=dict)
    detail: str = ""


def submit(envelope_xdr: str) -> SubmitOutcome:
    """POST /transactions (synchronous: Horizon answers once the transaction is in a ledger)."""
    try:
        record = server().submit_transaction(envelope_xdr, skip_memo_required_check=True)
        return SubmitOutcome("applied", record=record)
    except BadRequestError as error:
        codes = (error.extras or {}).get("result_codes") or {}
        if codes:
            return SubmitOutcome("failed", result_codes=codes, detail=error.title or "")
        if error.status == 400:
            # A malformed envelope: Horizon refused it outright; it never reaches the network.
            return SubmitOutcome("failed", result_codes={"transaction": error.type or "malformed"},
                                 detail=error.detail or "")
        return SubmitOutcome("unknown", detail=f"HTTP {error.status}: {error.title}")
    except BaseRequestError as error:  # 5xx (incl. 504 timeout), connection errors, odd responses
        return SubmitOutcome("unknown", detail=f"{type(error).__name__}: {error}")


def result_codes(result_xdr: str) -> dict:
    """Horizon-style result codes from a TransactionResult XDR: ``{"transaction": ..., "operations": [...]}``
    where a failed operation is named by its result enum, lower-cased (e.g. ``payment_no_trust``)."""
    result = TransactionResult.from_xdr(result_xdr).result
    codes = {"transaction": result.code.name.lower()}
    if result.results is not None:
        codes["operations"] = [_operation_code(op) for op in result.results]
    return codes


def claimable_balance_ids(result_xdr: str) -> dict[int, str]:
    """Operation index -> claimable balance id (Horizon's hex form) for each create_claimable_balance."""
    result = TransactionResult.from_xdr(result_xdr).result
    ids = {}
    for index, op in enumerate(result.results or []):
        created = op.tr and op.tr.create_claimable_balance_result
        if created is not None and created.balance_id is not None:
            ids[index] = created.balance_id.to_xdr_bytes().hex()
    return ids


def _operation_code(op) -> str:
    if op.tr is None:
        return op.code.name.lower()
    for value in vars(op.tr).values():
        code = getattr(value, "code", None)
        if code is not None:
            name = code.name.lower()
            return "op_success" if name.endswith("_success") else name
    return "op_unknown"


def load_accounts(account_ids) -> dict[str, dict | None]:
    """``load_account`` for many accounts at once, over a few threads (one GET each)."""
    from concurrent.futures import ThreadPoolExecutor

    unique = list(dict.fromkeys(account_ids))
    if len(unique) <= 1:
        return {account_id: load_account(account_id) for account_id in unique}
    with ThreadPoolExecutor(max_workers=min(16, len(unique))) as pool:
        return dict(zip(unique, pool.map(load_account, unique)))
