"""What the wallet end-to-end tests share: the demo run as real processes, and the checks that each flow
moved the money exactly once. The `stack` fixture (conftest.py) starts it once for all of them.

The processes are those `make demo` runs: localnet, the sandbox bank, the anchor's web server and its four
workers, talking HTTP. The database is a temporary SQLite file, or a fresh PostgreSQL database when
POLARIS_TEST_DB=postgres.
"""

import os
import socket
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import requests

from examples import demo
from examples import wallet as w
from examples.sandbox_bank.testing import BankProcess
from localnet import testing as localnet_testing


@dataclass
class Stack:
    anchor: str
    horizon: str
    bank: str
    logs: Path

    def log_tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(self.logs.glob("*.log")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_database():
    """A fresh PostgreSQL database for the anchor's processes, dropped afterwards (None on SQLite)."""
    if os.environ.get("POLARIS_TEST_DB") != "postgres":
        yield None
        return
    import psycopg

    name = f"test_wallet_flows_{os.getpid()}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_stack(var_dir: Path):
    """Yields a running Stack, state in `var_dir`, and stops every process afterwards (a generator fixture body)."""
    database = _postgres_database()
    database_url = next(database)
    localnet = localnet_testing.start(close_interval=0.2)
    bank = children = None
    try:
        bank = BankProcess(str(var_dir / "bank.sqlite3"), settle_after=0.5, log_path=str(var_dir / "bank.log")).start()
        port = _free_port()
        anchor = f"http://127.0.0.1:{port}"
        extra = {"DATABASE_URL": database_url} if database_url else {}
        env = demo.anchor_env(localnet, bank, anchor, demo.demo_keys(var_dir / "keys.json"), var_dir, **extra)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own settings, not the test suite's
        if not database_url:
            env.pop("DATABASE_URL", None)
        demo.prepare_anchor(env)
        children = demo.start_anchor(env, port, var_dir / "logs", interval=0.3)
        demo.wait_for(f"{anchor}/.well-known/stellar.toml")
        yield Stack(anchor, localnet.url, bank.url, var_dir / "logs")
    finally:
        demo.stop_children(children or [])
        if bank is not None:
            bank.stop()
        localnet.stop()
        next(database, None)


def records(url: str, **params) -> dict:
    response = requests.get(url, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def stellar_payments(stack: Stack, wallet: w.Wallet) -> list[dict]:
    """The asset's payments to or from the wallet's account, from Horizon."""
    body = records(f"{stack.horizon}/accounts/{wallet.account}/payments", limit=200)
    return [p for p in body["_embedded"]["records"] if p["type"] == "payment" and p.get("asset_code") == wallet.asset.code]


def new_wallet(stack: Stack) -> w.Wallet:
    wallet = w.create_account(stack.anchor, stack.horizon)
    w.authenticate(wallet)
    return wallet


def check_deposit(stack: Stack, wallet: w.Wallet, done: dict, bank_account: str, amount: str) -> None:
    """`completed`, the asset on the account, one Stellar payment, one bank transfer to the anchor."""
    assert done["status"] == "completed" and Decimal(done["amount_out"]) == Decimal(amount)
    assert w.stellar_balance(wallet) == Decimal(amount)
    [payment] = stellar_payments(stack, wallet)
    assert payment["to"] == wallet.account and payment["transaction_hash"] == done["stellar_transaction_id"]
    assert w.bank_balance(stack.bank, bank_account) == 0
    transfers = records(f"{stack.bank}/transfers", from_account=bank_account)["transfers"]
    assert len(transfers) == 1 and transfers[0]["to_account"] == "anchor"


def check_withdrawal(stack: Stack, wallet: w.Wallet, done: dict, bank_account: str, amount: str) -> None:
    """`completed`, one Stellar payment to the anchor, one delivered bank payment, the bank balance credited."""
    assert done["status"] == "completed" and done["to"] == bank_account
    assert w.stellar_balance(wallet) == 0
    outgoing = [p for p in stellar_payments(stack, wallet) if p["from"] == wallet.account]
    assert len(outgoing) == 1 and outgoing[0]["to"] == done["withdraw_anchor_account"]
    [payment] = records(f"{stack.bank}/payments", to_account=bank_account)["payments"]
    assert payment["status"] == "delivered" and Decimal(payment["amount"]) == Decimal(amount)
    assert payment["idempotency_key"] == done["id"]
    assert w.bank_balance(stack.bank, bank_account) == Decimal(amount)
