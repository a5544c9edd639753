"""The scripted wallet (examples/wallet.py) against the demo anchor run as `make demo` runs it: localnet, the
sandbox bank, the anchor's web server and its four workers, all real processes talking HTTP.

Each flow must end `completed` with the money where it belongs, moved exactly once: one Stellar payment
and one bank transfer or payment per transaction. The database is a temporary SQLite file, or a fresh
PostgreSQL database when POLARIS_TEST_DB=postgres.
"""

import os
import socket
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
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


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("demo")
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


def _records(url: str, **params) -> list[dict]:
    response = requests.get(url, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def _stellar_payments(stack: Stack, wallet: w.Wallet) -> list[dict]:
    """The asset's payments to or from the wallet's account, from Horizon."""
    body = _records(f"{stack.horizon}/accounts/{wallet.account}/payments", limit=200)
    return [p for p in body["_embedded"]["records"] if p["type"] == "payment" and p.get("asset_code") == wallet.asset.code]


def _new_wallet(stack: Stack) -> w.Wallet:
    wallet = w.create_account(stack.anchor, stack.horizon)
    w.authenticate(wallet)
    return wallet


def _check_deposit(stack: Stack, wallet: w.Wallet, done: dict, bank_account: str, amount: str) -> None:
    assert done["status"] == "completed" and Decimal(done["amount_out"]) == Decimal(amount)
    assert w.stellar_balance(wallet) == Decimal(amount)
    [payment] = _stellar_payments(stack, wallet)
    assert payment["to"] == wallet.account and payment["transaction_hash"] == done["stellar_transaction_id"]
    assert w.bank_balance(stack.bank, bank_account) == 0
    transfers = _records(f"{stack.bank}/transfers", from_account=bank_account)["transfers"]
    assert len(transfers) == 1 and transfers[0]["to_account"] == "anchor"


def _check_withdrawal(stack: Stack, wallet: w.Wallet, done: dict, bank_account: str, amount: str) -> None:
    assert done["status"] == "completed" and done["to"] == bank_account
    assert w.stellar_balance(wallet) == 0
    outgoing = [p for p in _stellar_payments(stack, wallet) if p["from"] == wallet.account]
    assert len(outgoing) == 1 and outgoing[0]["to"] == done["withdraw_anchor_account"]
    [payment] = _records(f"{stack.bank}/payments", to_account=bank_account)["payments"]
    assert payment["status"] == "delivered" and Decimal(payment["amount"]) == Decimal(amount)
    assert payment["idempotency_key"] == done["id"]
    assert w.bank_balance(stack.bank, bank_account) == Decimal(amount)


@pytest.mark.parametrize("sep", ["24", "6"])
def test_deposit_then_withdrawal_each_move_the_money_once(stack, sep):
    wallet = _new_wallet(stack)
    bank_account = w.bank_customer(stack.bank, cash="25")
    try:
        done = w.deposit(wallet, stack.bank, "25", sep, bank_account)
        _check_deposit(stack, wallet, done, bank_account, "25")
        done = w.withdraw(wallet, stack.bank, "25", sep, bank_account)
        _check_withdrawal(stack, wallet, done, bank_account, "25")
    except Exception:
        print(stack.log_tail())
        raise


def test_withdrawal_form_refuses_an_account_the_bank_does_not_have(stack):
    wallet = _new_wallet(stack)
    started = w.start_sep24(wallet, "withdraw", "5")
    with pytest.raises(RuntimeError, match="The sandbox bank has no account 'acc_nope'"):
        w.complete_interactive(wallet, started["url"], {"amount": "5", "bank_account": "acc_nope"})
    assert w.transaction(wallet, "24", started["id"])["status"] == "incomplete"


def test_sep6_asks_for_kyc_first_and_a_known_bank_account(stack):
    wallet = _new_wallet(stack)
    response = requests.get(f"{wallet.toml['TRANSFER_SERVER']}/withdraw", headers=wallet.auth, timeout=10,
                            params={"asset_code": wallet.asset.code, "amount": "5", "dest": "acc_nope"})  # fmt: skip
    assert response.status_code == 403
    assert response.json() == {"type": "non_interactive_customer_info_needed",
                               "fields": ["first_name", "last_name", "email_address"]}  # fmt: skip
    w.put_customer(wallet)
    response = requests.get(f"{wallet.toml['TRANSFER_SERVER']}/withdraw", headers=wallet.auth, timeout=10,
                            params={"asset_code": wallet.asset.code, "amount": "5", "dest": "acc_nope"})  # fmt: skip
    assert response.status_code == 400 and "no account 'acc_nope'" in response.json()["error"]
