"""Transactions through stellar-sdk: accounts, assets, payments, path payments, claimable balances, failures."""

import json

import pytest
from stellar_sdk import Asset, Claimant, Keypair, TransactionBuilder
from stellar_sdk.exceptions import BadRequestError


def _codes(excinfo) -> dict:
    return excinfo.value.extras["result_codes"]


def _balance(server, account_id, asset: Asset) -> str:
    for b in server.accounts().account_id(account_id).call()["balances"]:
        if asset.is_native() and b["asset_type"] == "native":
            return b["balance"]
        if not asset.is_native() and b.get("asset_code") == asset.code and b.get("asset_issuer") == asset.issuer:
            return b["balance"]
    return None


@pytest.fixture
def issued(server, funded, build):
    """An issuer, a holder with a trustline to USD and 1,000 USD."""
    issuer, holder = funded(), funded()
    usd = Asset("USD", issuer.public_key)
    server.submit_transaction(build(holder, lambda b: b.append_change_trust_op(usd)))
    server.submit_transaction(build(issuer, lambda b: b.append_payment_op(holder.public_key, usd, "1000")))
    return issuer, holder, usd


def test_create_account_and_payment(server, funded, build):
    a = funded()
    b = Keypair.random()
    created = server.submit_transaction(build(a, lambda t: t.append_create_account_op(b.public_key, "50")))
    assert created["successful"] is True and created["operation_count"] == 1
    assert "memo" not in created and created["memo_type"] == "none"
    paid = server.submit_transaction(
        build(a, lambda t: t.add_text_memo("hi").append_payment_op(b.public_key, Asset.native(), "12.5"))
    )
    assert paid["memo"] == "hi" and paid["memo_type"] == "text"
    assert _balance(server, b.public_key, Asset.native()) == "62.5000000"
    tx = server.transactions().transaction(paid["hash"]).call()
    assert tx["ledger"] == paid["ledger"] and tx["fee_charged"] == "100"
    payments = server.payments().for_account(b.public_key).order(desc=False).call()["_embedded"]["records"]
    assert [p["type"] for p in payments] == ["create_account", "payment"]
    assert payments[1]["amount"] == "12.5000000" and payments[1]["to"] == b.public_key
    joined = server.payments().for_transaction(paid["hash"]).join("transactions").call()["_embedded"]["records"]
    assert joined[0]["transaction"]["hash"] == paid["hash"]
    op = server.operations().operation(payments[1]["id"]).call()
    assert op["transaction_hash"] == paid["hash"] and op["_links"]["transaction"]["href"].endswith(paid["hash"])


def test_trustline_and_issued_asset(server, issued):
    issuer, holder, usd = issued
    assert _balance(server, holder.public_key, usd) == "1000.0000000"
    balances = server.accounts().account_id(holder.public_key).call()["balances"]
    assert balances[-1]["asset_type"] == "native" and balances[0]["asset_type"] == "credit_alphanum4"


def test_payment_without_trustline_fails_with_op_code(server, funded, build, issued):
    issuer, holder, usd = issued
    stranger = funded()
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(build(holder, lambda b: b.append_payment_op(stranger.public_key, usd, "1")))
    assert _codes(e) == {"transaction": "tx_failed", "operations": ["op_no_trust"]}
    assert e.value.extras["result_xdr"] and e.value.extras["envelope_xdr"]


def test_path_payments(server, funded, build, issued):
    issuer, holder, usd = issued
    other = funded()
    server.submit_transaction(build(other, lambda b: b.append_change_trust_op(usd)))
    server.submit_transaction(
        build(
            holder,
            lambda b: b.append_path_payment_strict_send_op(other.public_key, usd, "10", usd, "10", [])
            .append_path_payment_strict_receive_op(other.public_key, usd, "5", usd, "5", []),
        )
    )
    assert _balance(server, other.public_key, usd) == "15.0000000"
    kinds = [p["type"] for p in server.payments().for_account(other.public_key).order(desc=True).limit(2).call()["_embedded"]["records"]]
    assert kinds == ["path_payment_strict_receive", "path_payment_strict_send"]
    # No order book: a path that needs an exchange fails as an empty book does.
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(
            build(holder, lambda b: b.append_path_payment_strict_send_op(other.public_key, usd, "1", Asset.native(), "1", []))
        )
    assert _codes(e)["operations"] == ["op_too_few_offers"]


def test_claimable_balance_create_and_claim(server, funded, build):
    sender, claimant = funded(), funded()
    server.submit_transaction(
        build(
            sender,
            lambda b: b.append_create_claimable_balance_op(Asset.native(), "25", [Claimant(claimant.public_key)]),
        )
    )
    found = server.claimable_balances().for_claimant(claimant.public_key).call()["_embedded"]["records"]
    assert len(found) == 1
    cb = found[0]
    assert cb["amount"] == "25.0000000" and cb["asset"] == "native" and cb["sponsor"] == sender.public_key
    assert cb["claimants"] == [{"destination": claimant.public_key, "predicate": {"unconditional": True}}]
    assert server.claimable_balances().claimable_balance(cb["id"]).call()["id"] == cb["id"]
    by_sponsor = server.claimable_balances().for_sponsor(sender.public_key).call()["_embedded"]["records"]
    assert [r["id"] for r in by_sponsor] == [cb["id"]]
    assert server.claimable_balances().for_asset(Asset.native()).for_claimant(claimant.public_key).call()["_embedded"]["records"]
    before = float(_balance(server, claimant.public_key, Asset.native()))
    server.submit_transaction(build(claimant, lambda b: b.append_claim_claimable_balance_op(cb["id"])))
    after = float(_balance(server, claimant.public_key, Asset.native()))
    assert round(after - before, 7) == round(25 - 0.00001, 7)
    assert server.claimable_balances().for_claimant(claimant.public_key).call()["_embedded"]["records"] == []


def test_multisig_under_signed_fails_tx_bad_auth(server, funded, build):
    owner, cosigner, dest = funded(), Keypair.random(), funded()
    server.submit_transaction(
        build(
            owner,
            lambda b: b.append_ed25519_public_key_signer(cosigner.public_key, 1).append_set_options_op(
                master_weight=1, low_threshold=2, med_threshold=2, high_threshold=2
            ),
        )
    )
    pay = lambda b: b.append_payment_op(dest.public_key, Asset.native(), "1")  # noqa: E731
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(build(owner, pay))
    assert _codes(e) == {"transaction": "tx_bad_auth"}
    assert server.submit_transaction(build(owner, pay, signers=[owner, cosigner]))["successful"] is True


def test_bad_sequence_and_insufficient_fee(server, network, funded, build):
    a, dest = funded(), funded()
    pay = lambda b: b.append_payment_op(dest.public_key, Asset.native(), "1")  # noqa: E731
    account = server.load_account(a)
    account.sequence += 5
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(build(a, pay, account=account))
    assert _codes(e) == {"transaction": "tx_bad_seq"}
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(build(a, pay, base_fee=50))
    assert _codes(e) == {"transaction": "tx_insufficient_fee"}


def test_fee_bump(server, network, funded, build):
    inner_source, fee_source, dest = funded(), funded(), funded()
    inner = build(inner_source, lambda b: b.append_payment_op(dest.public_key, Asset.native(), "3"))
    bump = TransactionBuilder.build_fee_bump_transaction(fee_source, 200, inner, network.network_passphrase)
    bump.sign(fee_source)
    tx = server.submit_transaction(bump)
    assert tx["successful"] is True and tx["fee_account"] == fee_source.public_key
    assert tx["fee_bump_transaction"]["hash"] == tx["hash"] == bump.hash_hex()
    assert tx["inner_transaction"]["hash"] == inner.hash_hex()
    assert _balance(server, inner_source.public_key, Asset.native()) == "9997.0000000"


def test_failed_transactions_only_with_include_failed(server, funded, build, issued):
    issuer, holder, usd = issued
    stranger = funded()
    with pytest.raises(BadRequestError):
        server.submit_transaction(build(holder, lambda b: b.append_payment_op(stranger.public_key, usd, "1")))
    plain = server.transactions().for_account(holder.public_key).order(desc=True).limit(1).call()
    with_failed = server.transactions().for_account(holder.public_key).include_failed(True).order(desc=True).limit(1).call()
    assert plain["_embedded"]["records"][0]["successful"] is True
    assert with_failed["_embedded"]["records"][0]["successful"] is False


def test_resubmitting_an_applied_transaction_returns_its_result(server, funded, build):
    a, dest = funded(), funded()
    envelope = build(a, lambda b: b.append_payment_op(dest.public_key, Asset.native(), "1"))
    first = server.submit_transaction(envelope)
    second = server.submit_transaction(envelope)
    assert second["hash"] == first["hash"] and second["ledger"] == first["ledger"]
    assert _balance(server, dest.public_key, Asset.native()) == "10001.0000000"


def test_async_submission(server, funded, build):
    a, dest = funded(), funded()
    envelope = build(a, lambda b: b.append_payment_op(dest.public_key, Asset.native(), "1"))
    assert server.submit_transaction_async(envelope) == {"tx_status": "PENDING", "hash": envelope.hash_hex()}
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction_async(envelope)
    assert e.value.status == 409
    stale = build(a, lambda b: b.append_payment_op(dest.public_key, Asset.native(), "2"))  # reuses the queued seq
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction_async(stale)
    body = json.loads(e.value.message)
    assert e.value.status == 400 and body["tx_status"] == "ERROR" and body["error_result_xdr"]
