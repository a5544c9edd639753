"""A wallet's side of the SEP-10 dance, for the tests."""

import base64
import http.server
import os
import threading
import time

from stellar_sdk import Account, Keypair, TransactionBuilder, TransactionEnvelope

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


def add_duplicate_signature(envelope_xdr: str) -> str:
    """The last signature twice (stellar_sdk's sign() refuses to sign twice with one key)."""
    envelope = TransactionEnvelope.from_xdr(envelope_xdr, PASSPHRASE)
    envelope.signatures.append(envelope.signatures[-1])
    return envelope.to_xdr()


def post_token(client, envelope_xdr, as_json: bool = True):
    if as_json:
        return client.post("/auth", {"transaction": envelope_xdr}, content_type="application/json")
    return client.post("/auth", {"transaction": envelope_xdr})


def forge_challenge(
    account: str,
    *,
    server: Keypair | None = None,
    sequence: int = 0,
    home_domain: str = "testserver",
    web_auth_domain: str | None = "testserver",
    min_time: int | None = None,
    lifetime: int = 900,
    max_time: int | None = None,
    nonce: bytes | None = None,
    memo=None,
    extra_ops=(),
) -> str:
    """A challenge built the way a server would, with any one detail changed, signed by ``server``."""
    server = server or Keypair.from_secret(SERVER_SEED)
    min_time = int(time.time()) if min_time is None else min_time
    builder = TransactionBuilder(Account(server.public_key, sequence - 1), PASSPHRASE, base_fee=100)
    builder.add_time_bounds(min_time, min_time + lifetime if max_time is None else max_time)
    builder.append_manage_data_op(f"{home_domain} auth", nonce or base64.b64encode(os.urandom(48)), source=account)
    if web_auth_domain is not None:
        builder.append_manage_data_op("web_auth_domain", web_auth_domain, source=server.public_key)
    for name, value, source in extra_ops:
        builder.append_manage_data_op(name, value, source=source)
    if memo is not None:
        builder.add_memo(memo)
    envelope = builder.build()
    envelope.sign(server)
    return envelope.to_xdr()


class TomlServer:
    """A wallet's web server on a free local port, serving whatever body and status the test sets."""

    def __init__(self):
        self.body = b""
        self.status = 200
        self.headers: dict[str, str] = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/.well-known/stellar.toml":
                    self.send_error(404)
                    return
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.domain = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
