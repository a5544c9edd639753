from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from stellar_sdk import Keypair

from polaris.models import AppendOnlyError, Asset, Quote, Transaction, TransactionStatusChange
from polaris.models import encryption
from polaris.models.fields import UINT64_MAX

pytestmark = pytest.mark.django_db

ISSUER = Keypair.random().public_key


def make_asset(**kwargs):
    return Asset.objects.create(**{"code": "USDC", "issuer": ISSUER, **kwargs})


def test_code_and_issuer_are_unique_together():
    make_asset()
    Asset.objects.create(code="USDC", issuer=Keypair.random().public_key)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_asset()


@pytest.mark.parametrize("memo", [0, 1, 2**63 - 1, 2**63, UINT64_MAX])
def test_account_memo_round_trips_the_whole_uint64_range(memo):
    tx = Transaction.objects.create(asset=make_asset(), account_memo=memo)
    tx.refresh_from_db()
    assert tx.account_memo == memo
    assert Transaction.objects.get(account_memo=memo) == tx
    assert Transaction.objects.get(account_memo=str(memo)) == tx


@pytest.mark.parametrize("bad", [-1, UINT64_MAX + 1, "007", "abc", True])
def test_account_memo_rejects_values_outside_uint64(bad):
    with pytest.raises(ValidationError):
        Transaction.objects.create(asset=make_asset(), account_memo=bad)


def test_distribution_seed_round_trips_and_sets_the_account():
    keypair = Keypair.random()
    asset = make_asset(distribution_seed=keypair.secret)
    assert asset.distribution_account == keypair.public_key
    loaded = Asset.objects.get(pk=asset.pk)
    assert loaded.distribution_seed == keypair.secret
    assert Asset.objects.get(distribution_account=keypair.public_key) == asset


def test_database_holds_no_clear_seed():
    keypair = Keypair.random()
    asset = make_asset(distribution_seed=keypair.secret)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Asset._meta.db_table} WHERE id = %s", [asset.pk])
        row = cursor.fetchone()
    stored = [str(value) for value in row]
    assert not any(keypair.secret in value for value in stored)
    assert any(value.startswith(encryption.PREFIX) for value in stored)


def test_loading_a_row_does_not_decrypt(monkeypatch):
    make_asset(distribution_seed=Keypair.random().secret)
    calls = []
    monkeypatch.setattr(encryption, "decrypt", lambda *args: calls.append(args))
    list(Asset.objects.all())
    assert calls == []


def test_old_secret_in_fallbacks_still_decrypts():
    keypair = Keypair.random()
    with override_settings(SECRET_KEY="old-secret-" + "x" * 40):
        asset = make_asset(distribution_seed=keypair.secret)
    with override_settings(SECRET_KEY="new-secret-" + "y" * 40):
        with pytest.raises(encryption.DecryptionError):
            Asset.objects.get(pk=asset.pk).distribution_seed
    with override_settings(SECRET_KEY="new-secret-" + "y" * 40, SECRET_KEY_FALLBACKS=["old-secret-" + "x" * 40]):
        assert Asset.objects.get(pk=asset.pk).distribution_seed == keypair.secret


def test_status_and_kind_constants_match_the_seps():
    assert Transaction.STATUS.completed == "completed"
    assert Transaction.STATUS.pending_user_transfer_complete == "pending_user_transfer_complete"
    assert Transaction.KIND.withdrawal_exchange == "withdrawal-exchange"
    assert {"refunded", "expired", "pending_customer_info_update", "pending_transaction_info_update"} <= set(
        Transaction.STATUS.values
    )


def test_amounts_keep_seven_decimals():
    tx = Transaction.objects.create(asset=make_asset(), amount_in=Decimal("12345.1234567"))
    tx.refresh_from_db()
    assert tx.amount_in == Decimal("12345.1234567")


def test_quote_account_memo_is_uint64():
    quote = Quote.objects.create(
        type="firm", stellar_account=ISSUER, account_memo=UINT64_MAX,
        sell_asset="iso4217:USD", buy_asset=f"stellar:USDC:{ISSUER}", sell_amount=Decimal("10"),
    )
    quote.refresh_from_db()
    assert quote.account_memo == UINT64_MAX


def test_status_history_is_append_only():
    tx = Transaction.objects.create(asset=make_asset(), status="incomplete")
    change = TransactionStatusChange.objects.create(transaction=tx, to_status="incomplete", actor="test")
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        TransactionStatusChange.objects.filter(pk=change.pk).update(actor="someone else")
    with pytest.raises(AppendOnlyError):
        TransactionStatusChange.objects.all().delete()
