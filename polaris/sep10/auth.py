"""SEP-10 session tokens: issuing them, and the one way every other SEP view authenticates a request.

Protect a view with ``requires_sep10_token``; it reads ``Authorization: Bearer <jwt>``, checks the
HS256 signature (``SERVER_JWT_KEY``), ``exp``, ``iss`` and the ``sub`` format, and calls the view with
the decoded token as the keyword argument ``token``::

    from polaris.sep10.auth import requires_sep10_token, SEP10Token

    @requires_sep10_token                                # SEP-6, SEP-24: 403 {"type": "authentication_required"}
    def deposit(request, token: SEP10Token): ...

    @requires_sep10_token(status=401, style="error")     # SEP-12: 401 {"error": "<reason>"}
    def customer(request, token: SEP10Token): ...

    @requires_sep10_token(style="error")                 # SEP-31, SEP-38: 403 {"error": "<reason>"}
    def quote(request, token: SEP10Token): ...

It works on plain Django views, DRF ``@api_view`` functions (put it below ``@api_view``) and APIView
methods. ``token.account`` is always the base ``G...`` account; ``token.memo`` is set for shared
accounts authenticated with a memo, and ``token.muxed_account`` for ``M...`` accounts, so a view scopes
its queries by ``(account, memo, muxed_account)``. Use ``decode_token`` directly when the token does
not come from the header (e.g. the SEP-24 interactive flow).
"""

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Callable, Literal

import jwt
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from stellar_sdk import MuxedAccount, StrKey

from polaris.conf import settings

TOKEN_LIFETIME_SECONDS = 24 * 60 * 60
ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The bearer token is missing, malformed, forged, expired or not ours; the message says which."""


@dataclass(frozen=True)
class SEP10Token:
    """An authenticated SEP-10 session: who the wallet proved to be."""

    account: str  # the base G... account (also for muxed accounts)
    memo: int | None  # the ID memo of a shared account (sub "G...:memo"), else None
    muxed_account: str | None  # the M... account when the wallet authenticated as one, else None
    client_domain: str | None  # the wallet's verified domain, when it did client attribution
    home_domain: str | None
    jti: str  # the hash of the challenge this token was issued for
    issued_at: datetime
    expires_at: datetime

    @property
    def sub(self) -> str:
        if self.muxed_account:
            return self.muxed_account
        return f"{self.account}:{self.memo}" if self.memo is not None else self.account


def issuer() -> str:
    """The ``iss`` claim: the URL of our WEB_AUTH_ENDPOINT."""
    from polaris.urls import sep_url  # polaris.urls imports the SEP views, which import this module

    return sep_url("sep-10")


def _jwt_key() -> str:
    key = settings.SERVER_JWT_KEY
    if not key:
        raise ImproperlyConfigured("SERVER_JWT_KEY must be set to issue or check SEP-10 tokens")
    return key


def issue_token(
    *, sub: str, challenge_hash: str, home_domain: str, client_domain: str | None, now: float | None = None
) -> str:
    """The JWT the POST /auth endpoint returns once a challenge is verified."""
    issued_at = int(time.time() if now is None else now)
    claims = {
        "iss": issuer(),
        "sub": sub,
        "iat": issued_at,
        "exp": issued_at + TOKEN_LIFETIME_SECONDS,
        "jti": challenge_hash,
        "home_domain": home_domain,
    }
    if client_domain:
        claims["client_domain"] = client_domain
    return jwt.encode(claims, _jwt_key(), algorithm=ALGORITHM)


def _parse_sub(sub: str) -> tuple[str, int | None, str | None]:
    """``G...`` / ``G...:memo`` / ``M...`` → (account, memo, muxed_account)."""
    if StrKey.is_valid_med25519_public_key(sub):
        return MuxedAccount.from_account(sub).account_id, None, sub
    account, _, memo = sub.partition(":")
    if not StrKey.is_valid_ed25519_public_key(account):
        raise InvalidToken("token subject is not a Stellar account")
    if not _:
        return account, None, None
    if not memo.isdigit() or int(memo) >= 2**64:
        raise InvalidToken("token subject has an invalid memo")
    return account, int(memo), None


def decode_token(encoded: str) -> SEP10Token:
    """Verify a JWT we issued and return its session; raises ``InvalidToken``."""
    try:
        claims = jwt.decode(
            encoded,
            _jwt_key(),
            algorithms=[ALGORITHM],
            issuer=issuer(),
            options={"require": ["iss", "sub", "iat", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("token was not issued by this server") from None
    except jwt.InvalidTokenError as error:
        raise InvalidToken(f"invalid token: {error}") from None
    if not isinstance(claims["sub"], str):
        raise InvalidToken("token subject is not a Stellar account")
    account, memo, muxed_account = _parse_sub(claims["sub"])
    return SEP10Token(
        account=account,
        memo=memo,
        muxed_account=muxed_account,
        client_domain=claims.get("client_domain"),
        home_domain=claims.get("home_domain"),
        jti=str(claims["jti"]),
        issued_at=datetime.fromtimestamp(claims["iat"], tz=timezone.utc),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=timezone.utc),
    )


def token_from_request(request) -> SEP10Token:
    """Decode the ``Authorization: Bearer <jwt>`` header; raises ``InvalidToken``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise InvalidToken("Authorization header is missing")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "bearer" or not encoded.strip():
        raise InvalidToken("Authorization header must be 'Bearer <JWT>'")
    return decode_token(encoded.strip())


FailureStyle = Literal["authentication_required", "error"]


def requires_sep10_token(view: Callable | None = None, *, status: int = 403, style: FailureStyle = "authentication_required"):
    """Decorator: run the view only with a valid SEP-10 token, passed as ``token=``.

    ``style="authentication_required"`` answers ``{"type": "authentication_required"}`` (SEP-6, SEP-24);
    ``style="error"`` answers ``{"error": "<reason>"}`` (SEP-12 with ``status=401``, SEP-31, SEP-38).
    """
    if style not in ("authentication_required", "error"):
        raise ValueError(f"unknown failure style {style!r}")

    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            request = next(arg for arg in args if isinstance(arg, (HttpRequest, Request)))
            try:
                token = token_from_request(request)
            except InvalidToken as error:
                body = {"type": "authentication_required"} if style == "authentication_required" else {"error": str(error)}
                return JsonResponse(body, status=status)
            return func(*args, token=token, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
