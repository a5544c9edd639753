"""A wallet's side of the SEP-10 dance, for the tests."""

from stellar_sdk import Keypair, TransactionEnvelope

SERVER_SEED = "SD7JC7M3K5C2RGEMTU72HR3UKV6RJFBHCC3SNBB65PVC27NKERQFVILK"  # POLARIS_SIGNING_SEED in test settings
SERVER_KEY = Keypair.from_secret(SERVER_SEED).public_key
PASSPHRASE = "Standalone Network ; February 2017"


def get_challenge(client, account: str, **params) -> str:
    response = client.get("/auth", {"account": account, **params})
    assert response.status_code == 200, response.content
    return response.json()["transaction"]


def sign(envelope_xdr: str, *keypairs: Keypair) -> str:
    envelope = TransactionEnvelope.from_xdr(envelope_xdr, PASSPHRASE)
    for keypair in keypairs:
        envelope.sign(keypair)
    return envelope.to_xdr()


def post_token(client, envelope_xdr, as_json: bool = True):
    if as_json:
        return client.post("/auth", {"transaction": envelope_xdr}, content_type="application/json")
    return client.post("/auth", {"transaction": envelope_xdr})
