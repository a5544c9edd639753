"""SEP-10 fixtures: a real localnet process for the client accounts POST /auth loads from Horizon."""

import pytest
from stellar_sdk import Keypair, Server, TransactionBuilder

from localnet.testing import start
from polaris.sep10.tests.helpers import PASSPHRASE


@pytest.fixture(scope="session")
def localnet_process():
    # 1 s between closes: localnet advances close time by >= 1 s per ledger, so faster closes run its clock
    # ahead of the wall clock and time-bounded transactions (ours, friendbot's) end up tx_too_late.
    net = start(close_interval=1.0)
    yield net
    net.stop()


@pytest.fixture
def horizon(localnet_process, settings):
    """Points HORIZON_URI at the real localnet; POST /auth loads client accounts from it."""
    settings.POLARIS_HORIZON_URI = localnet_process.url
    return localnet_process


@pytest.fixture
def fund(horizon):
    """Creates a new account (100 XLM) from localnet's root account, not through friendbot (see create_accounts)."""

    def make() -> Keypair:
        keypair = Keypair.random()
        horizon.create_accounts([keypair], "100")
        return keypair

    return make


@pytest.fixture
def set_options(horizon):
    """set_options(account_keypair, signer_keypairs=[], **set_options_kwargs): applies one SetOptions on localnet."""

    def apply(account: Keypair, signers=(), **kwargs) -> None:
        with Server(horizon.url) as server:
            builder = TransactionBuilder(server.load_account(account.public_key), PASSPHRASE, base_fee=100)
            builder.append_set_options_op(**kwargs).set_timeout(60)
            envelope = builder.build()
            for keypair in signers or [account]:
                envelope.sign(keypair)
            server.submit_transaction(envelope)

    return apply

