import pytest
from stellar_sdk import Account, Keypair, Network, TransactionBuilder

from polaris import integrations
from polaris.integrations import (
    CustodyError,
    RailsIntegration,
    SelfCustodyIntegration,
    WithdrawalIntegration,
    register_integrations,
    registered_custody,
    registered_rails,
    reset_integrations,
)
from polaris.models import Asset, Transaction


@pytest.fixture(autouse=True)
def clean_registry():
    reset_integrations()
    yield
    reset_integrations()


class BankRails(RailsIntegration):
    pass


def consumer_written_before_registration():
    return integrations.registered_rails()


def test_registration_is_seen_by_code_imported_earlier():
    rails = BankRails()
    register_integrations(rails=rails)
    assert consumer_written_before_registration() is rails
    assert registered_rails() is rails


def test_registering_one_integration_keeps_the_others():
    custody = registered_custody()
    register_integrations(rails=BankRails())
    assert registered_custody() is custody


@pytest.mark.parametrize(
    "kwargs", [{"rails": BankRails}, {"rails": WithdrawalIntegration()}, {"custody": object()}]
)
def test_registration_type_checks(kwargs):
    with pytest.raises(TypeError):
        register_integrations(**kwargs)
    assert type(registered_rails()) is RailsIntegration


@pytest.mark.django_db
def test_default_rails_never_report_money_and_refuse_payouts():
    rails = registered_rails()
    assert rails.poll_pending_deposits(Transaction.objects.all()) == []
    assert rails.poll_outgoing_transactions(Transaction.objects.all()) == []
    with pytest.raises(NotImplementedError):
        rails.execute_outgoing_transaction(Transaction())


def test_default_withdrawal_integration_refuses_sep9_fields():
    with pytest.raises(ValueError):
        WithdrawalIntegration().save_sep9_fields(None, None, "G...", {"first_name": "A"}, "en")
    WithdrawalIntegration().save_sep9_fields(None, None, "G...", {}, "en")


@pytest.mark.django_db
def test_self_custody_signs_with_the_distribution_seed():
    distribution = Keypair.random()
    asset = Asset.objects.create(
        code="USDC", issuer=Keypair.random().public_key, distribution_seed=distribution.secret
    )
    asset = Asset.objects.get(pk=asset.pk)
    custody = registered_custody()
    assert isinstance(custody, SelfCustodyIntegration)
    assert custody.get_distribution_account(asset) == distribution.public_key
    envelope = (
        TransactionBuilder(Account(distribution.public_key, 1), Network.STANDALONE_NETWORK_PASSPHRASE, 100)
        .append_payment_op(Keypair.random().public_key, asset.to_stellar_asset(), "1")
        .set_timeout(60)
        .build()
    )
    signed = custody.sign_envelope(asset, envelope)
    assert len(signed.signatures) == 1
    distribution.verify(signed.hash(), signed.signatures[0].signature)


@pytest.mark.django_db
def test_self_custody_refuses_an_asset_without_a_seed():
    asset = Asset.objects.create(code="EURC", issuer=Keypair.random().public_key)
    with pytest.raises(CustodyError):
        registered_custody().get_distribution_account(asset)
    with pytest.raises(CustodyError):
        registered_custody().sign_envelope(asset, None)
