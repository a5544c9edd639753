"""Signed callback requests (SEP digest §1): ``Signature: t=<ts>, s=<base64 ed25519 of "t.host.body">``."""

import base64
import json
import logging
import time
from urllib.parse import urlparse

import requests
from stellar_sdk import Keypair

from polaris.conf import settings

logger = logging.getLogger(__name__)


def signature_header(url: str, body: str, now: int | None = None) -> str:
    """The ``Signature`` header value for POSTing ``body`` to ``url``, signed with SIGNING_SEED."""
    timestamp = int(time.time() if now is None else now)
    payload = f"{timestamp}.{urlparse(url).netloc}.{body}".encode()
    signature = base64.b64encode(Keypair.from_secret(settings.SIGNING_SEED).sign(payload)).decode()
    return f"t={timestamp}, s={signature}"


def post_signed_json(url: str, data: dict) -> bool:
    """POST ``data`` as JSON with the signature headers; True on a 2xx answer. Failures are logged, not raised."""
    body = json.dumps(data)
    header = signature_header(url, body)
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Signature": header, "X-Stellar-Signature": header},
            timeout=settings.CALLBACK_REQUEST_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        logger.warning("callback to %s failed: %s", url, error)
        return False
    if not response.ok:
        logger.warning("callback to %s answered %s", url, response.status_code)
    return response.ok
