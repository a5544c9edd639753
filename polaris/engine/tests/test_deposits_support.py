"""Shared parts of the deposit tests: a real localnet, an issued asset, destination accounts, a rails
integration that reports the deposits a test marked as funded, and ledger counts.

Everything here talks to a real `python -m localnet` process over HTTP with stellar-sdk.
"""

import os
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.db import connection
from stellar_sdk import Account, Asset as StellarAsset, Keypair, TransactionBuilder

from localnet import testing as localnet_testing
from polaris.integrations import RailsIntegration, register_integrations, reset_integrations
from polaris.models import Asset, Transaction

REPO = Path(__file__).resolve().parents[3]
ASSET_CODE = "USDX"


class FundedRails(RailsIntegration):
    """Reports as funded the waiting deposits whose id a test added to ``funded``."""

    def __init__(self):
        self.funded: set = set()

    def poll_pending_deposits(self, pending_deposits, *args, **kwargs):
        return [deposit for deposit in pending_deposits if deposit.pk in self.funded]


class Ledger:
    """A localnet process plus the Stellar side of one issued asset."""

    def __init__(self, net):
        self.net = net
        self.url = net.url
        self.passphrase = net.passphrase
        self.issuer = Keypair.random()
        self.distribution = Keypair.random()
        self.funder = Keypair.random()
        net.create_accounts((self.issuer, self.distribution, self.funder), "10000")
        self.asset = StellarAsset(ASSET_CODE, self.issuer.public_key)
        self.add_trustlines([self.distribution])
        self.submit(self.issuer, lambda b: b.append_payment_op(self.distribution.public_key, self.asset, "100000000"))

    def sequence(self, account_id: str) -> int:
        return int(requests.get(f"{self.url}/accounts/{account_id}", timeout=10).json()["sequence"])

    def submit(self, source: Keypair, add_ops, signers=()) -> dict:
        builder = TransactionBuilder(Account(source.public_key, self.sequence(source.public_key)), self.passphrase,
                                     base_fee=100)
        add_ops(builder)
        envelope = builder.set_timeout(60).build()
        for keypair in (source, *signers):
            envelope.sign(keypair)
        response = requests.post(f"{self.url}/transactions", data={"tx": envelope.to_xdr()}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def new_accounts(self, count: int, *, trust: bool = True) -> list[Keypair]:
        """``count`` funded accounts (3 XLM), with a trustline to the asset when ``trust``."""
        keypairs = [Keypair.random() for _ in range(count)]
        for start in range(0, count, 100):
            chunk = keypairs[start:start + 100]
            self.submit(self.funder, lambda b: [b.append_create_account_op(k.public_key, "3") for k in chunk])
        if trust:
            self.add_trustlines(keypairs)
        return keypairs

    def add_trustlines(self, keypairs: list[Keypair]) -> None:
        for start in range(0, len(keypairs), 19):  # 20 signatures per transaction at most
            chunk = keypairs[start:start + 19]
            self.submit(self.funder,
                        lambda b: [b.append_change_trust_op(self.asset, source=k.public_key) for k in chunk],
                        signers=chunk)

    def account(self, account_id: str) -> dict | None:
        response = requests.get(f"{self.url}/accounts/{account_id}", timeout=10)
        return response.json() if response.status_code == 200 else None

    def balance(self, account_id: str) -> Decimal:
        for balance in (self.account(account_id) or {}).get("balances", []):
            if balance.get("asset_code") == ASSET_CODE:
                return Decimal(balance["balance"])
        return Decimal(0)

    def deliveries(self) -> Counter:
        """How many times the distribution account sent the asset to each destination (payments to the
        exact address, M or G, and claimable balances to their claimant)."""
        counts: Counter = Counter()
        cursor = ""
        while True:
            page = requests.get(f"{self.url}/accounts/{self.distribution.public_key}/operations",
                                params={"limit": 200, "cursor": cursor, "order": "asc"}, timeout=10).json()
            records = page["_embedded"]["records"]
            if not records:
                return counts
            for op in records:
                if op.get("source_account") != self.distribution.public_key or op.get("asset_code", ASSET_CODE) != ASSET_CODE:
                    continue
                if op["type"] == "payment" and op.get("asset_code") == ASSET_CODE:
                    counts[op.get("to_muxed") or op["to"]] += 1
                elif op["type"] == "create_claimable_balance":
                    counts[op["claimants"][0]["destination"]] += 1
            cursor = records[-1]["paging_token"]

    def payment_memos(self, destination: str) -> list:
        ops = requests.get(f"{self.url}/accounts/{destination}/payments", params={"limit": 200, "join": "transactions"},
                           timeout=10).json()["_embedded"]["records"]
        return [(op["transaction"].get("memo_type"), op["transaction"].get("memo")) for op in ops if op["type"] == "payment"]

    def fault(self, mode: str, count: int = 1) -> None:
        requests.post(f"{self.url}/_localnet/faults", json={"mode": mode, "count": count}, timeout=10).raise_for_status()

    def latest_close_time(self) -> int:
        from datetime import datetime

        record = requests.get(f"{self.url}/ledgers", params={"order": "desc", "limit": 1},
                              timeout=10).json()["_embedded"]["records"][0]
        return int(datetime.fromisoformat(record["closed_at"].replace("Z", "+00:00")).timestamp())


@pytest.fixture(scope="module")
def ledger():
    net = localnet_testing.start(close_interval=0.2, faults=True)
    try:
        yield Ledger(net)
    finally:
        net.stop()


@pytest.fixture
def anchor(ledger, settings, transactional_db):
    """The asset in the database, Polaris pointed at localnet, and FundedRails registered."""
    settings.POLARIS_HORIZON_URI = ledger.url
    settings.POLARIS_STELLAR_NETWORK_PASSPHRASE = ledger.passphrase
    asset = Asset(code=ASSET_CODE, issuer=ledger.issuer.public_key, significant_decimals=2)
    asset.distribution_seed = ledger.distribution.secret
    asset.save()
    rails = FundedRails()
    register_integrations(rails=rails)
    yield asset, rails
    reset_integrations()


def new_deposit(asset: Asset, to_address: str, amount="10", *, funded_rails=None, memo=None, memo_type="text",
                claimable_balance_supported=False, status=Transaction.STATUS.pending_user_transfer_start):
    deposit = Transaction.objects.create(
        kind=Transaction.KIND.deposit, status=status, asset=asset, to_address=to_address,
        amount_in=Decimal(amount), memo=memo, memo_type=memo_type,
        claimable_balance_supported=claimable_balance_supported,
    )
    if funded_rails is not None:
        funded_rails.funded.add(deposit.pk)
    return deposit


def ready_deposits(asset: Asset, destinations: list[str], *, memo_every: int = 0, amount="1"):
    """Deposits already funded and queued (pending_anchor + queue entry), as the rails step leaves them."""
    from polaris.engine.transitions import acting_as
    from polaris.models import QueuedDeposit

    deposits = []
    with acting_as("test"):
        for index, destination in enumerate(destinations):
            memo = str(index) if memo_every and index % memo_every == 0 else None
            deposit = Transaction.objects.create(
                kind=Transaction.KIND.deposit, status=Transaction.STATUS.pending_anchor, asset=asset,
                to_address=destination, amount_in=Decimal(amount), amount_fee=Decimal(0), amount_out=Decimal(amount),
                memo=memo, memo_type="id",
            )
            deposits.append(deposit)
    QueuedDeposit.objects.bulk_create([QueuedDeposit(transaction=deposit) for deposit in deposits])
    return deposits


def worker_env(ledger: Ledger, **extra) -> dict:
    """Environment for a `manage.py process_pending_deposits` subprocess on this test's database."""
    name = connection.settings_dict["NAME"]
    db_name = Path(name).stem if connection.vendor == "sqlite" else name
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "polaris.tests.settings", "POLARIS_DB_NAME": db_name,
           "POLARIS_TEST_DB": "postgres" if connection.vendor == "postgresql" else "sqlite",
           "HORIZON_URI": ledger.url, "STELLAR_NETWORK_PASSPHRASE": ledger.passphrase}
    if connection.vendor == "sqlite":
        env["POLARIS_SQLITE_DIR"] = str(Path(name).parent)
    env.update(extra)
    return env


def start_worker(ledger: Ledger, *args, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "examples/anchor/manage.py", "process_pending_deposits", "--resolve-after", "0", *args],
        cwd=REPO, env=worker_env(ledger, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def run_worker(ledger: Ledger, *args, timeout=60, **env) -> tuple[int, str]:
    process = start_worker(ledger, *args, **env)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
