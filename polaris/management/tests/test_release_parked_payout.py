"""``manage.py release_parked_payout`` as a real subprocess on the test database: output and exit codes."""

import subprocess
import sys
import uuid

import pytest

from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import MANAGE, REPO, manage_env, park_queued_payouts, received_withdrawal
from polaris.models import Payout, Transaction

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS


def release(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MANAGE, "release_parked_payout", *args], cwd=REPO, env=manage_env(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_releases_a_parked_payout_once_the_bank_payment_is_ruled_out(offline_usd):
    t = received_withdrawal(offline_usd)
    park_queued_payouts()

    refused = release(str(t.id))
    assert refused.returncode == 2
    assert "not released" in refused.stderr and "confirm that the bank has no payment" in refused.stderr
    assert Payout.objects.get(transaction=t).state == Payout.STATE.parked

    released = release(str(t.id), "--bank-did-not-pay", "--operator", "ops:carol")
    assert released.returncode == 0, released.stderr
    assert released.stdout.strip() == f"released the payout of {t.id}: queued, transaction pending_anchor"
    assert Payout.objects.get(transaction=t).state == Payout.STATE.queued
    assert t.status_changes.filter(to_status=S.pending_anchor, actor="ops:carol").exists()

    again = release(str(t.id), "--bank-did-not-pay")
    assert again.returncode == 2 and "is queued, not parked" in again.stderr


def test_an_unknown_or_malformed_transaction_id_exits_with_2():
    unknown_id = str(uuid.uuid4())
    unknown = release(unknown_id, "--bank-did-not-pay")
    assert unknown.returncode == 2 and f"transaction {unknown_id} has no payout" in unknown.stderr
    malformed = release("not-a-uuid", "--bank-did-not-pay")
    assert malformed.returncode == 2 and "invalid UUID value" in malformed.stderr
