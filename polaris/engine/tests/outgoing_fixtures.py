"""Real parts for the outgoing-engine tests: a localnet process, a sandbox bank process, Stellar accounts
holding an issued asset, withdrawals in the database, and worker subprocesses on the test database.

Test modules import these fixtures with ``from polaris.engine.tests.outgoing_fixtures import *``.
"""

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.db import connection
from stellar_sdk import Asset as StellarAsset
from stellar_sdk import Keypair, MuxedAccount, Server, TransactionBuilder
from stellar_sdk.memo import HashMemo, IdMemo, TextMemo

from examples.sandbox_bank.testing import BankProcess
from localnet.testing import start as start_localnet
from polaris.engine.payouts import AWAITING_PAYOUT, execute_outgoing_transactions, queue_payout
from polaris.engine.transitions import change_status
from polaris.integrations import RailsIntegration, register_integrations, registered_rails, reset_integrations
from polaris.models import Asset, Transaction

REPO = Path(__file__).resolve().parents[3]
MANAGE = str(REPO / "examples" / "anchor" / "manage.py")


@dataclass
class Chain:
    """Accounts on one localnet: an issuer of USD and EUR, the anchor's distribution account, a payer."""

    url: str
    passphrase: str
    process: object
    issuer: Keypair
    distribution: Keypair
    payer: Keypair

    def usd(self) -> StellarAsset:
        return StellarAsset("USD", self.issuer.public_key)

    def eur(self) -> StellarAsset:
        return StellarAsset("EUR", self.issuer.public_key)

    def submit(self, source: Keypair, add_ops, signers=(), fee_bump_by: Keypair | None = None) -> str:
        """Builds (no time bounds: localnet's fast clock runs ahead of ours), signs, submits; returns the hash."""
        with Server(self.url) as server:
            builder = TransactionBuilder(server.load_account(source.public_key), self.passphrase, 100)
            add_ops(builder)
            envelope = builder.add_time_bounds(0, 0).build()
            for keypair in (source, *signers):
                envelope.sign(keypair)
            if fee_bump_by is not None:
                envelope = TransactionBuilder.build_fee_bump_transaction(
                    fee_bump_by.public_key, 200, envelope, self.passphrase
                )
                envelope.sign(fee_bump_by)
            return server.submit_transaction(envelope)["hash"]

    def pay(self, amount: str, memo=None, *, asset: StellarAsset | None = None, to: str | None = None,
            op: str = "payment", fee_bump_by: Keypair | None = None) -> str:
        """The payer pays ``amount`` to the distribution account (or ``to``) with ``memo``."""
        asset = asset or self.usd()
        destination = to or self.distribution.public_key

        def ops(builder: TransactionBuilder):
            if memo is not None:
                builder.add_memo(memo)
            if op == "payment":
                builder.append_payment_op(destination, asset, amount)
            elif op == "strict_send":
                builder.append_path_payment_strict_send_op(destination, asset, amount, asset, "0.0000001", [])
            else:
                builder.append_path_payment_strict_receive_op(destination, asset, amount, asset, amount, [])

        return self.submit(self.payer, ops, fee_bump_by=fee_bump_by)

    def muxed_distribution(self, muxed_id: int) -> str:
        return MuxedAccount(self.distribution.public_key, muxed_id).account_muxed

    def fund(self) -> Keypair:
        keypair = Keypair.random()
        self.process.create_accounts([keypair], "1000")
        return keypair


@pytest.fixture(scope="module")
def chain():
    """One localnet per test module, closing ledgers every 0.25 s, with the faults endpoint on."""
    process = start_localnet(close_interval=0.25, faults=True)
    issuer, distribution, payer = Keypair.random(), Keypair.random(), Keypair.random()
    net = Chain(process.url, process.passphrase, process, issuer, distribution, payer)
    process.create_accounts((issuer, distribution, payer), "10000")

    def trust_and_issue(builder):
        for code in ("USD", "EUR"):
            asset = StellarAsset(code, issuer.public_key)
            builder.append_change_trust_op(asset, source=distribution.public_key)
            builder.append_change_trust_op(asset, source=payer.public_key)
            builder.append_payment_op(payer.public_key, asset, "1000000")

    net.submit(issuer, trust_and_issue, signers=(distribution, payer))
    yield net
    process.stop()


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """A real sandbox bank; payments settle (delivered) 0.5 s after they are made."""
    process = BankProcess(str(tmp_path_factory.mktemp("bank") / "bank.sqlite3"), settle_after=0.5).start()
    yield process
    process.stop()


@pytest.fixture
def horizon(chain, settings):
    settings.POLARIS_HORIZON_URI = chain.url
    return chain


def usd_asset(issuer: str, distribution_seed: str) -> Asset:
    return Asset.objects.create(
        code="USD", issuer=issuer, distribution_seed=distribution_seed,
        significant_decimals=2, withdrawal_enabled=True, sep24_enabled=True,
    )  # fmt: skip


@pytest.fixture
def usd(horizon) -> Asset:
    return usd_asset(horizon.issuer.public_key, horizon.distribution.secret)


@pytest.fixture
def offline_usd() -> Asset:
    """USD on accounts no network knows: for tests that never touch Stellar."""
    return usd_asset(Keypair.random().public_key, Keypair.random().secret)


@pytest.fixture
def anchor_rails(bank, monkeypatch):
    """The seed's AnchorRails over the real sandbox bank, registered in this process."""
    from examples.anchor.integrations import AnchorRails

    monkeypatch.setenv("SANDBOX_BANK_URL", bank.url)
    register_integrations(rails=AnchorRails())
    yield
    reset_integrations()


def bank_account(bank) -> str:
    response = requests.post(f"{bank.url}/accounts", json={"name": "Alice", "currency": "USD"}, timeout=10)
    response.raise_for_status()
    return response.json()["id"]


def bank_payments(bank, transaction: Transaction) -> list[dict]:
    """Every payment the bank made for this transaction (its id is the idempotency key)."""
    response = requests.get(f"{bank.url}/payments", params={"idempotency_key": str(transaction.id)}, timeout=10)
    response.raise_for_status()
    return response.json()["payments"]


def new_memo_id() -> int:
    return random.randrange(1, 2**63)


def withdrawal(asset: Asset, *, memo: str | None = None, memo_type: str = "id", amount: str = "10",
               to_address: str = "acc_unknown", kind: str = "withdrawal", receiving: str | None = None,
               **fields) -> Transaction:
    """A withdrawal waiting for its Stellar payment, as SEP-24 leaves it (unique id memo by default)."""
    status = Transaction.STATUS.pending_sender if kind == "send" else Transaction.STATUS.pending_user_transfer_start
    return Transaction.objects.create(
        kind=kind,
        protocol=Transaction.PROTOCOL.sep31 if kind == "send" else Transaction.PROTOCOL.sep24,
        status=status,
        asset=asset,
        amount_expected=Decimal(amount),
        amount_in=Decimal(amount),
        amount_fee=Decimal("0.50"),
        amount_out=Decimal(amount) - Decimal("0.50"),
        receiving_anchor_account=receiving or asset.distribution_account,
        memo=memo if memo is not None else str(new_memo_id()),
        memo_type=memo_type,
        to_address=to_address,
        **fields,
    )


def id_memo(transaction: Transaction) -> IdMemo:
    return IdMemo(int(transaction.memo))


def received_withdrawal(asset: Asset, **fields) -> Transaction:
    """A withdrawal (or send) as the watcher leaves it once paid, without a network: awaiting payout, queued."""
    transaction = withdrawal(asset, **fields)
    change_status(transaction, AWAITING_PAYOUT[transaction.kind], actor="test", reason="paid on Stellar")
    queue_payout(transaction)
    return transaction


class RaisingRails(RailsIntegration):
    calls = 0

    def execute_outgoing_transaction(self, transaction, *args, **kwargs):
        RaisingRails.calls += 1
        raise ConnectionError("bank unreachable")


def park_queued_payouts(rails: RailsIntegration | None = None) -> int:
    """Executes the queued payouts with ``rails`` (default: raising before the bank) so that the engine parks
    them; the rails registered before are registered again afterwards."""
    registered = registered_rails()
    register_integrations(rails=rails or RaisingRails())
    try:
        return execute_outgoing_transactions()
    finally:
        register_integrations(rails=registered)


__all__ = [
    "Chain", "HashMemo", "IdMemo", "MANAGE", "TextMemo", "anchor_rails", "bank", "bank_account",
    "bank_payments", "chain", "horizon", "id_memo", "new_memo_id", "offline_usd", "usd", "withdrawal",
    "Worker", "wait_for",
]  # fmt: skip


def wait_for(condition, timeout: float = 15.0, interval: float = 0.05):
    """Polls ``condition()`` until it returns something truthy; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {getattr(condition, '__name__', condition)}")


def manage_env(*, horizon_url: str = "", bank_url: str = "", **env: str) -> dict:
    """The environment of a ``manage.py`` subprocess on this test's database (``env`` added last)."""
    database = connection.settings_dict["NAME"]
    db_name = Path(database).stem if connection.vendor == "sqlite" else database
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "polaris.engine.tests.anchor_settings",
        "POLARIS_DB_NAME": db_name,
        "POLARIS_SQLITE_DIR": str(Path(database).parent) if connection.vendor == "sqlite" else "",
        "HORIZON_URI": horizon_url,
        "SANDBOX_BANK_URL": bank_url,
        **env,
    }


class Worker:
    """A real ``python examples/anchor/manage.py NAME`` subprocess on this test's database."""

    def __init__(self, name: str, *args: str, horizon_url: str, bank_url: str = "", log_dir: Path,
                 env: dict | None = None):
        self.name = name
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        full_env = manage_env(horizon_url=horizon_url, bank_url=bank_url, **(env or {}))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, MANAGE, name, *args], cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def errors(self) -> list[str]:
        """Lines logged at ERROR or above, and tracebacks: a worker that merely lost a race logs none."""
        return [line for line in self.log().splitlines() if line.startswith(("ERROR", "CRITICAL", "Traceback"))]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for a clean exit; fails the test (after SIGKILL) if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.name} did not stop on SIGTERM:\n{self.log()[-3000:]}")
        return self.process.returncode
