"""WEB_AUTH_ENDPOINT: ``GET /auth`` issues a challenge, ``POST /auth`` exchanges the signed challenge for a JWT."""

import json
from datetime import datetime, timezone

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from stellar_sdk import StrKey

from polaris.conf import settings
from polaris.models.auth import UsedChallenge
from polaris.sep10 import client_domain as attribution
from polaris.sep10.auth import issue_token
from polaris.sep10.challenge import ChallengeError, HorizonUnavailable, build_challenge, verify_challenge

UINT64_MAX = 2**64 - 1


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def auth(request: HttpRequest) -> JsonResponse:
    return challenge(request) if request.method == "GET" else token(request)


def challenge(request: HttpRequest) -> JsonResponse:
    account = request.GET.get("account", "")
    if not account:
        return _error("'account' is required")
    is_muxed = StrKey.is_valid_med25519_public_key(account)
    if not (is_muxed or StrKey.is_valid_ed25519_public_key(account)):
        return _error("'account' must be a valid G... or M... Stellar account")

    memo = None
    if "memo" in request.GET:
        raw_memo = request.GET["memo"]
        if is_muxed:
            return _error("'memo' cannot be used with a muxed (M...) account")
        if not raw_memo.isascii() or not raw_memo.isdigit() or int(raw_memo) > UINT64_MAX:
            return _error("'memo' must be an ID memo: an unsigned 64-bit integer")
        memo = int(raw_memo)

    home_domains = settings.SEP10_HOME_DOMAINS
    home_domain = request.GET.get("home_domain") or home_domains[0]
    if home_domain not in home_domains:
        return _error(f"'home_domain' {home_domain!r} is not served here; use one of {home_domains}")

    client_domain = request.GET.get("client_domain") or None
    required = settings.SEP10_CLIENT_ATTRIBUTION_REQUIRED
    if client_domain and not attribution.is_allowed(client_domain):
        if required:
            return _error(f"client_domain {client_domain!r} is not allowed", status=403)
        client_domain = None  # attribution is optional: issue an unattributed challenge
    if required and not client_domain:
        return _error("'client_domain' is required")
    client_signing_key = None
    if client_domain:
        try:
            client_signing_key = attribution.fetch_signing_key(client_domain)
        except attribution.ClientDomainError as error:
            return _error(f"client_domain: {error}")

    envelope = build_challenge(
        account,
        home_domain=home_domain,
        memo=memo,
        client_domain=client_domain,
        client_signing_key=client_signing_key,
    )
    return JsonResponse({"transaction": envelope, "network_passphrase": settings.STELLAR_NETWORK_PASSPHRASE})


def _posted_transaction(request: HttpRequest) -> object:
    """The ``transaction`` field from a JSON or a form body (None when absent)."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except (UnicodeDecodeError, ValueError):
            raise ChallengeError("the body is not valid JSON") from None
        return body.get("transaction") if isinstance(body, dict) else None
    return request.POST.get("transaction")


def token(request: HttpRequest) -> JsonResponse:
    try:
        envelope = _posted_transaction(request)
        if envelope is None or envelope == "":
            return _error("'transaction' is required")
        if not isinstance(envelope, str):
            return _error("'transaction' must be a base64 XDR string")
        verified = verify_challenge(envelope)
    except ChallengeError as error:
        return _error(str(error))
    except HorizonUnavailable:
        return _error("could not load the client account from Horizon; try again", status=503)

    UsedChallenge.purge_expired()
    try:
        with transaction.atomic():
            UsedChallenge.objects.create(
                challenge_hash=verified.hash,
                account=verified.client_account,
                expires_at=datetime.fromtimestamp(verified.max_time, tz=timezone.utc),
            )
    except IntegrityError:
        return _error("this challenge has already been exchanged for a token; request a new one")

    jwt = issue_token(
        sub=verified.sub,
        challenge_hash=verified.hash,
        home_domain=verified.home_domain,
        client_domain=verified.client_domain,
    )
    return JsonResponse({"token": jwt})
