"""Horizon's problem+json errors (RFC 7807), raised as exceptions and rendered by the app's middleware."""

import json

from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8"
TYPE_PREFIX = "https://stellar.org/horizon-errors/"

TX_FAILED_DETAIL = (
    "The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this "
    "response contains further details.  Descriptions of each code can be found at: "
    "https://developers.stellar.org/api/errors/http-status-codes/horizon-specific/transaction-failed/"
)


class Problem(Exception):
    """An error response; handlers raise it so every failure path renders the same way."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "", extras: dict | None = None):
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail, self.extras = status, slug, title, detail, extras

    def body(self) -> dict:
        body = {"type": TYPE_PREFIX + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.extras:
            body["extras"] = self.extras
        return body

    def response(self, headers: dict | None = None) -> web.Response:
        return web.Response(
            status=self.status, text=json.dumps(self.body()), headers={"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})}
        )


def not_found() -> Problem:
    return Problem(
        404,
        "not_found",
        "Resource Missing",
        "The resource at the url requested was not found.  This usually occurs for one of two reasons:  "
        "The url requested is not valid, or no data in our database could be found with the parameters provided.",
    )


def bad_request(field: str, reason: str) -> Problem:
    return Problem(
        400,
        "bad_request",
        "Bad Request",
        "The request you sent was invalid in some way.",
        {"invalid_field": field, "reason": reason},
    )


def tx_failed(envelope_xdr: str, result) -> Problem:
    return Problem(
        400,
        "transaction_failed",
        "Transaction Failed",
        TX_FAILED_DETAIL,
        {"envelope_xdr": envelope_xdr, "result_xdr": result.result_xdr, "result_codes": result.result_codes},
    )


def tx_malformed(envelope_xdr: str) -> Problem:
    return Problem(
        400,
        "transaction_malformed",
        "Transaction Malformed",
        "Horizon could not decode the transaction envelope in this request. A transaction should be an XDR "
        "TransactionEnvelope struct encoded using base64.  The envelope read from this request is echoed in the "
        "`extras.envelope_xdr` field of this response for your convenience.",
        {"envelope_xdr": envelope_xdr},
    )


def submission_timeout(tx_hash: str, envelope_xdr: str) -> Problem:
    return Problem(
        504,
        "transaction_submission_timeout",
        "Transaction Submission Timeout",
        "Your transaction submission request has timed out. This does not necessarily mean the submission has "
        "failed. Before resubmitting, please use the transaction hash provided in `extras.hash` to poll the "
        "GET /transactions endpoint for sometime and check if it was included in a ledger.",
        {"hash": tx_hash, "envelope_xdr": envelope_xdr},
    )


def service_unavailable() -> Problem:
    return Problem(
        503,
        "service_unavailable",
        "Service Unavailable",
        "The request cannot be serviced at this time, possibly due to maintenance. Please try again later.",
    )


def unsupported_media_type() -> Problem:
    return Problem(
        415,
        "unsupported_media_type",
        "Unsupported Media Type",
        "The request has an unsupported content type. Presently, the only supported content type is "
        "application/x-www-form-urlencoded.",
    )


def server_error() -> Problem:
    return Problem(
        500,
        "server_error",
        "Internal Server Error",
        "An error occurred while processing this request.  This is usually due to a bug within the server software.",
    )
