"""Server-Sent Events: Horizon's preamble, records as they are applied, cursor=now."""

import queue
import time

import requests
from stellar_sdk import Asset, Keypair


def test_hello_preamble_then_records_with_paging_token_ids(localnet):
    with requests.get(
        f"{localnet.url}/ledgers?cursor=now", headers={"Accept": "text/event-stream"}, stream=True, timeout=10
    ) as resp:
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        chunks = resp.iter_content(chunk_size=None)
        received = b""
        while received.count(b"\n\n") < 2:
            received += next(chunks)
    assert received.startswith(b'retry: 1000\nevent: open\ndata: "hello"\n\n')
    record = received.split(b"\n\n")[1].split(b"\n")
    assert record[0].startswith(b"id: ") and record[1].startswith(b"data: {")


def test_payment_stream_from_now_receives_a_payment_within_one_close(server, funded, build, stream_events):
    a, b = funded(), funded()
    events = stream_events(server.payments().for_account(b.public_key).cursor("now"))
    time.sleep(0.5)  # let the stream connect before the payment is applied
    paid = server.submit_transaction(build(a, lambda t: t.append_payment_op(b.public_key, Asset.native(), "7")))
    applied = time.monotonic()
    arrived, record = events.get(timeout=10)
    assert record["type"] == "payment" and record["transaction_hash"] == paid["hash"] and record["amount"] == "7.0000000"
    # The sync submit returns once the ledger has closed; the stream must not lag a further close behind.
    assert arrived - applied < 1.0
    assert record["paging_token"] == record["id"]


def test_transaction_stream_replays_from_a_cursor(server, funded, build, stream_events):
    a = funded()
    hashes = [
        server.submit_transaction(build(a, lambda t: t.append_create_account_op(Keypair.random().public_key, "2")))["hash"]
        for _ in range(3)
    ]
    first = server.transactions().transaction(hashes[0]).call()
    events = stream_events(server.transactions().for_account(a.public_key).cursor(first["paging_token"]))
    got = [events.get(timeout=10)[1]["hash"] for _ in range(2)]
    assert got == hashes[1:]
    try:
        extra = events.get(timeout=0.5)
        raise AssertionError(f"unexpected event {extra}")
    except queue.Empty:
        pass
