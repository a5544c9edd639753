"""The demo project starts, registers the seed's AnchorRails, and the seed's code drives our Transaction
model against a real sandbox bank process: every status it sets is validated and recorded."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from stellar_sdk import Keypair

from examples.anchor.integrations import AnchorRails
from examples.sandbox_bank.testing import BankProcess
from polaris.engine.transitions import acting_as
from polaris.models import Asset, Transaction

REPO_ROOT = Path(__file__).resolve().parents[3]
S = Transaction.STATUS


def test_manage_py_runs_from_the_repo_root_and_registers_anchor_rails(tmp_path):
    env = {**os.environ, "ANCHOR_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "examples.anchor.settings"}
    env.pop("DATABASE_URL", None)
    code = "from polaris.integrations import registered_rails; print(type(registered_rails()).__name__)"
    result = subprocess.run(
        [sys.executable, "examples/anchor/manage.py", "shell", "-c", code],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "AnchorRails"


@pytest.fixture
def bank(tmp_path, monkeypatch):
    with BankProcess(str(tmp_path / "bank.sqlite3"), settle_after=3600, log_path=str(tmp_path / "bank.log")) as bank:
        monkeypatch.setenv("SANDBOX_BANK_URL", bank.url)
        yield bank


def bank_account(bank) -> str:
    response = requests.post(f"{bank.url}/accounts", json={"name": "Customer", "currency": "USD"}, timeout=10)
    response.raise_for_status()
    return response.json()["id"]


def settle(bank, payment_id: str, status: str) -> None:
    requests.post(f"{bank.url}/payments/{payment_id}/settle", json={"status": status}, timeout=10).raise_for_status()


def withdrawal(bank, amount_in="10", amount_expected="10") -> Transaction:
    asset = Asset.objects.get_or_create(code="USD", issuer=ISSUER, defaults={"withdrawal_fee_fixed": Decimal("1")})[0]
    return Transaction.objects.create(
        asset=asset, kind=Transaction.KIND.withdrawal, status=S.pending_anchor, to_address=bank_account(bank),
        amount_in=Decimal(amount_in), amount_expected=Decimal(amount_expected), amount_out=Decimal(amount_in),
    )


ISSUER = Keypair.random().public_key


def actors(transaction):
    return list(transaction.status_changes.order_by("at", "id").values_list("to_status", "actor", "reason"))


@pytest.mark.django_db
def test_payout_initiated_then_delivered(bank):
    rails = AnchorRails()
    tx = withdrawal(bank)
    with acting_as("execute_outgoing_transactions"):
        rails.execute_outgoing_transaction(Transaction.objects.get(pk=tx.pk))
    tx.refresh_from_db()
    assert tx.status == S.pending_external and tx.external_transaction_id
    assert actors(tx)[-1] == (S.pending_external, "execute_outgoing_transactions", "")

    pending = Transaction.objects.filter(status=S.pending_external)
    assert rails.poll_outgoing_transactions(pending) == []
    settle(bank, tx.external_transaction_id, "delivered")
    assert rails.poll_outgoing_transactions(pending) == [tx]


@pytest.mark.django_db
def test_failed_payout_is_recorded_as_error_with_its_reason(bank):
    rails = AnchorRails()
    tx = withdrawal(bank)
    with acting_as("execute_outgoing_transactions"):
        rails.execute_outgoing_transaction(Transaction.objects.get(pk=tx.pk))
    settle(bank, Transaction.objects.get(pk=tx.pk).external_transaction_id, "failed")
    with acting_as("poll_outgoing_transactions"):
        assert rails.poll_outgoing_transactions(Transaction.objects.filter(pk=tx.pk)) == []
    assert actors(tx)[-1] == (S.error, "poll_outgoing_transactions", "payment failed, contact customer support.")


@pytest.mark.django_db
def test_different_amount_gets_the_fee_and_is_paid(bank):
    tx = withdrawal(bank, amount_in="9", amount_expected="10")
    with acting_as("execute_outgoing_transactions"):
        AnchorRails().execute_outgoing_transaction(Transaction.objects.get(pk=tx.pk))
    tx.refresh_from_db()
    assert (tx.amount_fee, tx.amount_out, tx.status) == (Decimal("1"), Decimal("8"), S.pending_external)
