"""The one-time, short-lived token in the interactive URL, exchanged for a browser session.

The wallet opens the URL in a popup; the first request redeems the token (recorded in the replay store,
so a second use fails even when two requests race) and remembers the transaction in the Django session,
then redirects to the same page without the token, so it never stays in the history or a Referer header.
"""

import hashlib
import time
import uuid
from datetime import datetime, timezone

import jwt
from django.db import IntegrityError
from django.db import transaction as db_transaction

from polaris.conf import settings
from polaris.models import Transaction, UsedChallenge
from polaris.sep10.auth import SEP10Token

ALGORITHM = "HS256"
SESSION_KEY = "polaris_sep24_transactions"


class InteractiveTokenError(Exception):
    """The interactive link is invalid, expired or already used; the message says which, for the user."""


def _issuer() -> str:
    return f"{settings.HOST_URL}/sep24/transactions/interactive"


def issue(transaction: Transaction, token: SEP10Token) -> str:
    now = int(time.time())
    claims = {
        "iss": _issuer(),
        "sub": token.sub,
        "txid": str(transaction.id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + settings.INTERACTIVE_JWT_EXPIRATION,
    }
    return jwt.encode(claims, settings.SERVER_JWT_KEY, algorithm=ALGORITHM)


def redeem(encoded: str, transaction_id: str) -> None:
    """Check the token is ours, fresh, unused and for ``transaction_id``, and use it up."""
    try:
        claims = jwt.decode(
            encoded,
            settings.SERVER_JWT_KEY,
            algorithms=[ALGORITHM],
            issuer=_issuer(),
            options={"require": ["iss", "sub", "txid", "jti", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise InteractiveTokenError("This link has expired. Please start again from your wallet.") from None
    except jwt.InvalidTokenError:
        raise InteractiveTokenError("This link is not valid. Please start again from your wallet.") from None
    if claims["txid"] != transaction_id:
        raise InteractiveTokenError("This link is for another transaction.")
    used_hash = hashlib.sha256(f"sep24-interactive:{claims['jti']}".encode()).hexdigest()
    UsedChallenge.purge_expired()
    try:
        with db_transaction.atomic():
            UsedChallenge.objects.create(
                challenge_hash=used_hash,
                account=str(claims["sub"]).partition(":")[0][:69],
                expires_at=datetime.fromtimestamp(claims["exp"], tz=timezone.utc),
            )
    except IntegrityError:
        raise InteractiveTokenError(
            "This link was already used. Please start again from your wallet."
        ) from None


def authorize_session(session, transaction_id: str) -> None:
    allowed = session.get(SESSION_KEY, [])
    if transaction_id not in allowed:
        session[SESSION_KEY] = [*allowed, transaction_id][-20:]


def session_allows(session, transaction_id: str) -> bool:
    return transaction_id in session.get(SESSION_KEY, [])
