"""Shared fixtures: one real localnet process per test session (the anchor's suites reuse `localnet`)."""

import pytest
import requests
from stellar_sdk import Keypair, Network, Server

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
