"""Building SEP-10 challenges and verifying signed ones (SEP-10 v3.4.1, §3.3 and §3.5 of our digest).

The checks on the challenge itself are stellar_sdk's ``read_challenge_transaction`` (decode, source,
sequence, time bounds, op 0 and its home domain and nonce, memo, later ops, ``web_auth_domain``, the
server's signature, in that order); the client's signatures are stellar_sdk's master-key or
threshold verification, fed with the account's state from Horizon.
"""

import base64
import os
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from stellar_sdk import Account, Keypair, MuxedAccount, Server, TransactionBuilder
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.exceptions import BaseRequestError, NotFoundError
from stellar_sdk.sep.ed25519_public_key_signer import Ed25519PublicKeySigner
from stellar_sdk.sep.exceptions import InvalidSep10ChallengeError
from stellar_sdk.sep.stellar_web_authentication import (
    read_challenge_transaction,
    verify_challenge_transaction_signed_by_client_master_key,
    verify_challenge_transaction_threshold,
)

from polaris.conf import settings

CHALLENGE_LIFETIME_SECONDS = 900
NONCE_BYTES = 48


class ChallengeError(Exception):
    """The signed challenge is not acceptable; the message is safe to show the client."""


class HorizonUnavailable(Exception):
    """Horizon could not tell us whether the client account exists."""


@dataclass(frozen=True)
class VerifiedChallenge:
    hash: str  # hex transaction hash (signatures excluded): the JWT's jti and the replay key
    client_account: str  # G... or M..., as in op 0
    memo: int | None
    home_domain: str
    client_domain: str | None
    max_time: int

    @property
    def base_account(self) -> str:
        if self.client_account.startswith("M"):
            return MuxedAccount.from_account(self.client_account).account_id
        return self.client_account

    @property
    def sub(self) -> str:
        if self.memo is not None:
            return f"{self.client_account}:{self.memo}"
        return self.client_account


def web_auth_domain() -> str:
    """Host (and port, when not the default) of WEB_AUTH_ENDPOINT, which lives on HOST_URL."""
    return urlparse(settings.HOST_URL).netloc


def _server_keypair() -> Keypair:
    if not settings.SIGNING_SEED:
        raise ImproperlyConfigured("SIGNING_SEED must be set to serve SEP-10")
    return Keypair.from_secret(settings.SIGNING_SEED)


def build_challenge(
    account: str,
    *,
    home_domain: str,
    memo: int | None = None,
    client_domain: str | None = None,
    client_signing_key: str | None = None,
    now: int | None = None,
) -> str:
    """A challenge signed by SIGNING_KEY: sequence 0, time bounds [now, now + 15 min], op 0
    ``<home_domain> auth`` sourced by the client with a 48-byte nonce, ``web_auth_domain``, and
    ``client_domain`` when the client asked for attribution.

    Built here rather than with stellar_sdk's ``build_challenge_transaction`` because that helper drops
    an ID memo of 0, which is a valid uint64 memo.
    """
    server = _server_keypair()
    now = int(time.time()) if now is None else now
    builder = TransactionBuilder(Account(server.public_key, -1), settings.STELLAR_NETWORK_PASSPHRASE, base_fee=100)
    builder.add_time_bounds(now, now + CHALLENGE_LIFETIME_SECONDS)
    builder.append_manage_data_op(f"{home_domain} auth", base64.b64encode(os.urandom(NONCE_BYTES)), source=account)
    builder.append_manage_data_op("web_auth_domain", web_auth_domain(), source=server.public_key)
    if client_domain:
        builder.append_manage_data_op("client_domain", client_domain, source=client_signing_key)
    if memo is not None:
        builder.add_id_memo(memo)
    transaction = builder.build()
    transaction.sign(server)
    return transaction.to_xdr()


def _check_is_plain_envelope(envelope_xdr: str) -> None:
    try:
        envelope = stellar_xdr.TransactionEnvelope.from_xdr(envelope_xdr)
    except Exception:  # the XDR decoder raises assorted errors on garbage input
        raise ChallengeError("'transaction' is not a base64 TransactionEnvelope XDR") from None
    if envelope.type != stellar_xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        raise ChallengeError("the challenge must be a v1 TransactionEnvelope, not a fee bump or v0 envelope")


def load_account(account_id: str) -> dict | None:
    """The account as Horizon returns it, or None when it does not exist."""
    try:
        with Server(settings.HORIZON_URI) as server:
            return server.accounts().account_id(account_id).call()
    except NotFoundError:
        return None
    except BaseRequestError as error:
        raise HorizonUnavailable(str(error)) from error


def _client_signers(account: dict) -> list[Ed25519PublicKeySigner]:
    """The account's ed25519 signers that carry weight: a weight-0 master key signs for nothing."""
    return [
        Ed25519PublicKeySigner(signer["key"], signer["weight"])
        for signer in account["signers"]
        if signer["type"] == "ed25519_public_key" and signer["weight"] > 0
    ]


def verify_challenge(envelope_xdr: str) -> VerifiedChallenge:
    """Run every check of §3.5 except replay (which needs the database); raises ``ChallengeError``."""
    _check_is_plain_envelope(envelope_xdr)
    server_account = _server_keypair().public_key
    passphrase = settings.STELLAR_NETWORK_PASSPHRASE
    domains = settings.SEP10_HOME_DOMAINS
    auth_domain = web_auth_domain()
    try:
        challenge = read_challenge_transaction(envelope_xdr, server_account, domains, auth_domain, passphrase)
    except (InvalidSep10ChallengeError, ValueError) as error:
        raise ChallengeError(str(error)) from None
    transaction = challenge.transaction.transaction
    if challenge.memo is not None and challenge.client_account_id.startswith("M"):
        # stellar_sdk misses this when the muxed id is 0.
        raise ChallengeError("memos are not permitted with a muxed client account")

    client_domain = next(
        (op.data_value.decode() for op in transaction.operations[1:] if op.data_name == "client_domain" and op.data_value),
        None,
    )
    verified = VerifiedChallenge(
        hash=challenge.transaction.hash_hex(),
        client_account=challenge.client_account_id,
        memo=challenge.memo,
        home_domain=challenge.matched_home_domain,
        client_domain=client_domain,
        max_time=transaction.preconditions.time_bounds.max_time,
    )

    account = load_account(verified.base_account)
    try:
        if account is None:
            # Not on the network yet: exactly the server, the master key and (if any) the client domain signed.
            verify_challenge_transaction_signed_by_client_master_key(
                envelope_xdr, server_account, domains, auth_domain, passphrase
            )
        else:
            signers = _client_signers(account)
            if not signers:
                raise ChallengeError("the client account has no signer with weight")
            verify_challenge_transaction_threshold(
                envelope_xdr,
                server_account,
                domains,
                auth_domain,
                passphrase,
                threshold=account["thresholds"]["med_threshold"],
                signers=signers,
            )
    except InvalidSep10ChallengeError as error:
        raise ChallengeError(str(error)) from None
    return verified
