"""The auth layer other SEPs use (§14 check 25): what a protected view accepts and how it refuses."""

import json
import time

from django.conf import settings as django_settings
import jwt
import pytest
from django.http import JsonResponse
from django.test import RequestFactory
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView
from stellar_sdk import Keypair, MuxedAccount

from polaris.sep10.auth import SEP10Token, decode_token, issue_token, requires_sep10_token

JWT_KEY = django_settings.POLARIS_SERVER_JWT_KEY
ACCOUNT = Keypair.random().public_key


@requires_sep10_token
def sep24_view(request, token: SEP10Token):
    return JsonResponse({"sub": token.sub})


@requires_sep10_token(status=401, style="error")
def sep12_view(request, token: SEP10Token):
    return JsonResponse({"sub": token.sub})


@api_view(["GET"])
@requires_sep10_token(style="error")
def drf_view(request, token: SEP10Token):
    return Response({"account": token.account})


class DRFClassView(APIView):
    @requires_sep10_token
    def get(self, request, token: SEP10Token):
        return Response({"account": token.account})


def make_token(**overrides) -> str:
    now = int(time.time())
    payload = {"iss": "http://testserver/auth", "sub": ACCOUNT, "iat": now, "exp": now + 60, "jti": "ab" * 32}
    payload.update(overrides)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, JWT_KEY, algorithm="HS256")


def get(view, authorization: str | None = None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return view(RequestFactory().get("/protected", **headers))


def body(response) -> dict:
    return json.loads(response.content)


def test_valid_token_reaches_the_view():
    response = get(sep24_view, f"Bearer {make_token()}")
    assert response.status_code == 200
    assert body(response) == {"sub": ACCOUNT}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Token {make_token()}",
        f"Basic {make_token()}",
        "Bearer not.a.jwt",
        f"Bearer {make_token()}x",  # signature no longer matches
        f"Bearer {jwt.encode({'sub': ACCOUNT}, 'another-key', algorithm='HS256')}",
        f"Bearer {make_token(iat=int(time.time()) - 120, exp=int(time.time()) - 60)}",
        f"Bearer {make_token(iss='https://other.example/auth')}",
        f"Bearer {make_token(sub='not-an-account')}",
        f"Bearer {make_token(sub=ACCOUNT + ':abc')}",
        f"Bearer {make_token(sub=ACCOUNT + ':' + str(2**64))}",
        f"Bearer {make_token(sub=12)}",
        f"Bearer {make_token(jti=None)}",
        f"Bearer {make_token(exp=None)}",
        f"Bearer {jwt.encode({'iss': 'http://testserver/auth', 'sub': ACCOUNT}, '', algorithm='none')}",
    ],
)
def test_refusals(authorization):
    response = get(sep24_view, authorization)
    assert response.status_code == 403
    assert body(response) == {"type": "authentication_required"}


def test_error_style_and_status():
    missing = get(sep12_view)
    assert missing.status_code == 401
    assert "missing" in body(missing)["error"]
    expired = get(sep12_view, f"Bearer {make_token(iat=int(time.time()) - 120, exp=int(time.time()) - 60)}")
    assert expired.status_code == 401
    assert body(expired) == {"error": "token has expired"}


def test_drf_function_and_class_views():
    assert get(drf_view).status_code == 403
    assert get(drf_view, f"Bearer {make_token()}").data == {"account": ACCOUNT}
    view = DRFClassView.as_view()
    assert get(view).status_code == 403
    assert get(view, f"Bearer {make_token()}").data == {"account": ACCOUNT}


def test_token_fields():
    plain = decode_token(make_token())
    assert (plain.account, plain.memo, plain.muxed_account, plain.client_domain) == (ACCOUNT, None, None, None)

    shared = decode_token(make_token(sub=f"{ACCOUNT}:{2**64 - 1}", client_domain="wallet.example"))
    assert (shared.account, shared.memo, shared.client_domain) == (ACCOUNT, 2**64 - 1, "wallet.example")
    assert shared.sub == f"{ACCOUNT}:{2**64 - 1}"

    muxed = MuxedAccount(ACCOUNT, 3).account_muxed
    session = decode_token(make_token(sub=muxed, home_domain="testserver"))
    assert (session.account, session.memo, session.muxed_account, session.home_domain) == (ACCOUNT, None, muxed, "testserver")
    assert session.expires_at > session.issued_at


def test_issue_then_decode_round_trip():
    encoded = issue_token(sub=f"{ACCOUNT}:7", challenge_hash="cd" * 32, home_domain="testserver", client_domain=None)
    session = decode_token(encoded)
    assert (session.account, session.memo, session.jti) == (ACCOUNT, 7, "cd" * 32)
    assert (session.expires_at - session.issued_at).total_seconds() == 24 * 3600


def test_unknown_style_is_a_programming_error():
    with pytest.raises(ValueError):
        requires_sep10_token(style="detail")
