"""Shared fixtures: one real localnet process per test session (the anchor's suites reuse `localnet`)."""

import queue
import threading
import time

import pytest
import requests
from stellar_sdk import Keypair, Network, Server, TransactionBuilder

from localnet.testing import start


@pytest.fixture(scope="session")
def localnet():
    """A localnet with a fast clock and the faults endpoint on; tests that arm a fault must disarm it."""
    net = start(close_interval=0.2, faults=True)
    yield net
    net.stop()


@pytest.fixture
def server(localnet):
    with Server(localnet.url) as s:
        yield s


@pytest.fixture
def network(localnet):
    return Network(localnet.passphrase)


@pytest.fixture
def funded(localnet):
    """Returns a function that makes a new account funded by friendbot."""

    def make() -> Keypair:
        kp = Keypair.random()
        requests.get(f"{localnet.url}/friendbot", params={"addr": kp.public_key}, timeout=30).raise_for_status()
        return kp

    return make


@pytest.fixture
def build(server, network):
    """Returns build(source_keypair, add_ops, signers=None, base_fee=100) -> a signed envelope."""

    def make(source: Keypair, add_ops, signers=None, base_fee=100, account=None):
        builder = TransactionBuilder(account or server.load_account(source.public_key), network.network_passphrase, base_fee)
        add_ops(builder)
        envelope = builder.set_timeout(60).build()
        for kp in signers or [source]:
            envelope.sign(kp)
        return envelope

    return make


@pytest.fixture
def stream_events():
    """Returns open(call_builder) -> a queue that receives (arrival time, record) from the builder's `.stream()`."""

    def open_stream(call_builder) -> queue.Queue:
        events: queue.Queue = queue.Queue()

        def run():
            try:
                for record in call_builder.stream():
                    events.put((time.monotonic(), record))
            except Exception:  # the session's server went away; the test that used this stream is over
                return

        threading.Thread(target=run, daemon=True).start()
        return events

    return open_stream
