"""The --faults control endpoint: lost answers (504 after apply), refusals (503), dropped streams."""

import time

import pytest
import requests
from stellar_sdk import Asset, Server
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import BadResponseError


@pytest.fixture
def faults(localnet):
    """Arms a fault; disarms whatever is left after the test, since the network is shared."""
    url = f"{localnet.url}/_localnet/faults"

    def arm(mode, count=1):
        resp = requests.post(url, json={"mode": mode, "count": count}, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    yield arm
    requests.post(url, json={"mode": "reject_503", "count": 0}, timeout=10)


@pytest.fixture
def no_retry(localnet):
    """A Server that reports a 5xx instead of retrying it, as stellar-sdk does by default."""
    with Server(localnet.url, client=RequestsClient(num_retries=0)) as s:
        yield s


def _native(server, account_id):
    return next(b["balance"] for b in server.accounts().account_id(account_id).call()["balances"] if b["asset_type"] == "native")


def test_state_is_readable(localnet, faults):
    armed = faults("apply_then_504", 2)
    assert armed["mode"] == "apply_then_504" and armed["count"] == 2 and isinstance(armed["open_streams"], int)
    assert requests.get(f"{localnet.url}/_localnet/faults", timeout=10).json()["count"] == 2
    bad = requests.post(f"{localnet.url}/_localnet/faults", json={"mode": "explode"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["extras"]["invalid_field"] == "mode"


def test_apply_then_504_applies_once(server, no_retry, funded, build, faults):
    a, b = funded(), funded()
    envelope = build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "5"))
    faults("apply_then_504", 1)
    with pytest.raises(BadResponseError) as e:
        no_retry.submit_transaction(envelope)
    assert e.value.status == 504 and e.value.type.endswith("/transaction_submission_timeout")
    assert e.value.extras == {"hash": envelope.hash_hex(), "envelope_xdr": envelope.to_xdr()}
    # It was applied anyway; resubmitting the same envelope returns its result and pays nothing twice.
    assert server.transactions().transaction(envelope.hash_hex()).call()["successful"] is True
    assert server.submit_transaction(envelope)["hash"] == envelope.hash_hex()
    assert _native(server, b.public_key) == "10005.0000000"


def test_apply_then_504_is_survived_by_the_sdk_retry(server, funded, build, faults):
    a, b = funded(), funded()
    faults("apply_then_504", 1)
    tx = server.submit_transaction(build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "5")))
    assert tx["successful"] is True
    assert _native(server, b.public_key) == "10005.0000000"


def test_apply_then_504_on_async_submission(server, no_retry, funded, build, faults):
    a, b = funded(), funded()
    envelope = build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "5"))
    faults("apply_then_504", 1)
    with pytest.raises(BadResponseError) as e:
        no_retry.submit_transaction_async(envelope)
    assert e.value.status == 504
    time.sleep(0.6)
    assert _native(server, b.public_key) == "10005.0000000"


def test_reject_503_does_not_apply(server, no_retry, funded, build, faults):
    a, b = funded(), funded()
    envelope = build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "5"))
    faults("reject_503", 2)
    for submit in (no_retry.submit_transaction, no_retry.submit_transaction_async):
        with pytest.raises(BadResponseError) as e:
            submit(envelope)
        assert e.value.status == 503 and e.value.type.endswith("/service_unavailable")
    time.sleep(0.5)
    assert _native(server, b.public_key) == "10000.0000000"
    assert server.submit_transaction(envelope)["successful"] is True  # disarmed after 2
    assert _native(server, b.public_key) == "10005.0000000"


def test_drop_streams_and_the_sdk_resumes(localnet, server, funded, build, faults, stream_events):
    a, b = funded(), funded()
    events = stream_events(server.payments().for_account(b.public_key).cursor("now"))
    time.sleep(0.5)
    server.submit_transaction(build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "1")))
    assert events.get(timeout=10)[1]["amount"] == "1.0000000"
    state = faults("drop_streams")
    assert state["mode"] is None
    server.submit_transaction(build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "2")))
    # The client reconnects (Last-Event-ID) and gets the payment it missed while disconnected.
    assert events.get(timeout=15)[1]["amount"] == "2.0000000"
