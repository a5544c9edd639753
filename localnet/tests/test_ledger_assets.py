"""Issued assets, trustlines, authorization, path payments, claimable balances and multisig on the ledger."""
import hashlib

import pytest
from stellar_sdk import AuthorizationFlag, Asset, Claimant, ClaimPredicate, Keypair, Signer, StrKey, TrustLineFlags
from stellar_sdk import xdr as X

from .ledger_helpers import balance_of, builder, decode, funded, native, new_network, sign, submit_and_close


@pytest.fixture
def net():
    return new_network()


def run(net, kp, fn, *signers):
    return submit_and_close(net, sign(fn(builder(net, kp)), *(signers or (kp,))).to_xdr())


def issue(net, issuer, holder, code="USD", limit=None):
    asset = Asset(code, issuer.public_key)
    assert run(net, holder, lambda b: b.append_change_trust_op(asset, limit)).successful
    return asset


def test_trustline_payment_and_removal(net):
    issuer, alice, bob = funded(net, "100", "100", "100")
    usd = issue(net, issuer, alice, limit="1000")
    line = net.account(alice.public_key)["balances"][0]
    assert line["asset_code"] == "USD" and line["limit"] == "1000.0000000" and line["is_authorized"] is True
    assert net.account(alice.public_key)["subentry_count"] == 1
    assert run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "250")).successful
    assert balance_of(net, alice, "USD") == "250.0000000"

    res = run(net, alice, lambda b: b.append_payment_op(bob.public_key, usd, "1"))
    assert res.result_codes["operations"] == ["op_no_trust"]
    assert decode(res.result_xdr).result.results[0].tr.payment_result.code == X.PaymentResultCode.PAYMENT_NO_TRUST
    res = run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "800"))
    assert res.result_codes["operations"] == ["op_line_full"]

    res = run(net, alice, lambda b: b.append_change_trust_op(usd, "0"))
    assert res.result_codes["operations"] == ["op_invalid_limit"]
    assert run(net, alice, lambda b: b.append_payment_op(issuer.public_key, usd, "250")).successful
    assert run(net, alice, lambda b: b.append_change_trust_op(usd, "0")).successful
    acct = net.account(alice.public_key)
    assert acct["balances"][-1]["asset_type"] == "native" and len(acct["balances"]) == 1
    assert acct["subentry_count"] == 0


def test_change_trust_needs_reserve(net):
    issuer, poor = funded(net, "100", "1.0000300")
    res = run(net, poor, lambda b: b.append_change_trust_op(Asset("USD", issuer.public_key)))
    assert res.result_codes == {"transaction": "tx_failed", "operations": ["op_low_reserve"]}


def test_auth_required_and_allow_trust(net):
    issuer, alice = funded(net, "100", "100")
    assert run(net, issuer, lambda b: b.append_set_options_op(
        set_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED | AuthorizationFlag.AUTHORIZATION_REVOCABLE)).successful
    usd = issue(net, issuer, alice)
    assert net.account(alice.public_key)["balances"][0]["is_authorized"] is False
    res = run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "5"))
    assert res.result_codes["operations"] == ["op_not_authorized"]

    assert run(net, issuer, lambda b: b.append_allow_trust_op(alice.public_key, "USD", True)).successful
    assert run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "5")).successful
    assert balance_of(net, alice, "USD") == "5.0000000"

    assert run(net, issuer, lambda b: b.append_set_trust_line_flags_op(
        alice.public_key, usd, clear_flags=TrustLineFlags.AUTHORIZED_FLAG)).successful
    res = run(net, alice, lambda b: b.append_payment_op(issuer.public_key, usd, "1"))
    assert res.result_codes["operations"] == ["op_src_not_authorized"]
    op = net.operations(account=alice.public_key, cursor=None, order="desc", limit=1, include_failed=True)[0]
    assert op["type"] == "payment" and op["transaction_successful"] is False


def test_path_payments_same_asset_work_and_exchanges_find_no_offers(net):
    issuer, alice, bob = funded(net, "100", "100", "100")
    usd = issue(net, issuer, alice)
    issue(net, issuer, bob)
    assert run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "100")).successful

    res = run(net, alice, lambda b: b.append_path_payment_strict_receive_op(
        bob.public_key, usd, "20", usd, "12.5", [usd]))
    assert res.successful
    success = decode(res.result_xdr).result.results[0].tr.path_payment_strict_receive_result.success
    assert success.last.amount.int64 == 125_000_000 and success.offers == []
    res = run(net, alice, lambda b: b.append_path_payment_strict_send_op(bob.public_key, usd, "7", usd, "7", []))
    assert res.successful
    assert balance_of(net, bob, "USD") == "19.5000000" and balance_of(net, alice, "USD") == "80.5000000"
    ops = net.operations(account=bob.public_key, cursor=None, order="desc", limit=2, payments_only=True)
    assert ops[0]["type"] == "path_payment_strict_send" and ops[0]["source_amount"] == "7.0000000"
    assert ops[0]["destination_min"] == "7.0000000" and ops[0]["amount"] == "7.0000000"
    assert ops[1]["type"] == "path_payment_strict_receive" and ops[1]["source_max"] == "20.0000000"
    assert ops[1]["path"] == [{"asset_type": "credit_alphanum4", "asset_code": "USD", "asset_issuer": issuer.public_key}]

    res = run(net, alice, lambda b: b.append_path_payment_strict_send_op(
        bob.public_key, Asset.native(), "1", usd, "1", []))
    assert res.result_codes == {"transaction": "tx_failed", "operations": ["op_too_few_offers"]}
    assert (decode(res.result_xdr).result.results[0].tr.path_payment_strict_send_result.code
            == X.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_TOO_FEW_OFFERS)
    res = run(net, alice, lambda b: b.append_path_payment_strict_receive_op(
        bob.public_key, usd, "5", usd, "1", [Asset.native()]))
    assert res.result_codes["operations"] == ["op_too_few_offers"]
    res = run(net, alice, lambda b: b.append_path_payment_strict_receive_op(bob.public_key, usd, "1", usd, "2", []))
    assert res.result_codes["operations"] == ["op_over_source_max"]


def test_claimable_balance_create_and_claim(net):
    alice, bob, carol = funded(net, "100", "100", "100")
    close = net.next_close_time()
    claimants = [Claimant(bob.public_key),
                 Claimant(carol.public_key, ClaimPredicate.predicate_not(
                     ClaimPredicate.predicate_before_relative_time(3600)))]
    res = run(net, alice, lambda b: b.append_create_claimable_balance_op(Asset.native(), "10", claimants))
    assert res.successful
    bid_xdr = decode(res.result_xdr).result.results[0].tr.create_claimable_balance_result.balance_id
    bid = bid_xdr.to_xdr_bytes().hex()
    cb = net.claimable_balance(bid)
    assert cb["amount"] == "10.0000000" and cb["asset"] == "native" and cb["sponsor"] == alice.public_key
    assert cb["paging_token"] == f"{cb['last_modified_ledger']}-{bid}"
    assert cb["claimants"][0]["predicate"] == {"unconditional": True}
    not_before = cb["claimants"][1]["predicate"]["not"]
    assert int(not_before["abs_before_epoch"]) >= close + 3600
    acct = net.account(alice.public_key)
    assert acct["num_sponsoring"] == 2 and native(net, alice) == "89.9999900"
    assert [c["id"] for c in net.claimable_balances(cursor=None, order="asc", limit=10, claimant=carol.public_key)] == [bid]
    assert net.claimable_balances(cursor=None, order="asc", limit=10, asset="USD:" + alice.public_key) == []

    res = run(net, carol, lambda b: b.append_claim_claimable_balance_op(bid))
    assert res.result_codes == {"transaction": "tx_failed", "operations": ["op_cannot_claim"]}
    assert run(net, bob, lambda b: b.append_claim_claimable_balance_op(bid)).successful
    assert native(net, bob) == "109.9999900"
    assert net.claimable_balance(bid) is None
    assert net.account(alice.public_key)["num_sponsoring"] == 0
    txs = net.transactions(claimable_balance=bid, cursor=None, order="asc", limit=10)
    assert len(txs) == 2
    ops = net.operations(claimable_balance=bid, cursor=None, order="asc", limit=10)
    assert [o["type"] for o in ops] == ["create_claimable_balance", "claim_claimable_balance"]
    assert ops[0]["claimants"][1]["predicate"] == {"not": {"rel_before": "3600"}}
    res = run(net, bob, lambda b: b.append_claim_claimable_balance_op(bid))
    assert res.result_codes["operations"] == ["op_does_not_exist"]


def test_multisig_thresholds(net):
    alice, cosigner, bob = funded(net, "100", "100", "100")
    assert run(net, alice, lambda b: b.append_set_options_op(
        signer=Signer.ed25519_public_key(cosigner.public_key, 1),
        low_threshold=2, med_threshold=2, high_threshold=2)).successful
    acct = net.account(alice.public_key)
    assert {s["key"]: s["weight"] for s in acct["signers"]} == {cosigner.public_key: 1, alice.public_key: 1}
    assert acct["thresholds"] == {"low_threshold": 2, "med_threshold": 2, "high_threshold": 2}

    pay = lambda b: b.append_payment_op(bob.public_key, Asset.native(), "1")  # noqa: E731
    under = sign(pay(builder(net, alice)), alice)
    out = net.submit(under.to_xdr())
    assert out.status == "ERROR" and out.result.result_codes == {"transaction": "tx_bad_auth"}
    assert decode(out.result.result_xdr).result.code == X.TransactionResultCode.txBAD_AUTH
    assert run(net, alice, pay, alice, cosigner).successful
    assert native(net, bob) == "101.0000000"

    # op-level thresholds: a payment at medium with only the low threshold met fails the operation
    assert run(net, alice, lambda b: b.append_set_options_op(low_threshold=1, med_threshold=2, high_threshold=2),
               alice, cosigner).successful
    out = net.submit(sign(pay(builder(net, alice)), alice).to_xdr())
    assert out.result.result_codes == {"transaction": "tx_failed", "operations": ["op_bad_auth"]}

    stranger = Keypair.random()
    out = net.submit(sign(pay(builder(net, alice)), alice, cosigner, stranger).to_xdr())
    assert out.result.result_codes == {"transaction": "tx_bad_auth_extra"}


def test_preauth_and_hashx_signers(net):
    alice, bob = funded(net, "100", "100")
    preimage = b"open sesame"
    assert run(net, alice, lambda b: b.append_set_options_op(
        signer=Signer.sha256_hash(StrKey.encode_sha256_hash(hashlib.sha256(preimage).digest()), 1))).successful
    tx = sign(builder(net, alice).append_payment_op(bob.public_key, Asset.native(), "1"))
    tx.sign_hashx(preimage)
    assert submit_and_close(net, tx.to_xdr()).successful

    future = sign(builder(net, alice, seq_offset=1).append_payment_op(bob.public_key, Asset.native(), "2"))
    assert run(net, alice, lambda b: b.append_set_options_op(
        signer=Signer.pre_auth_tx(StrKey.encode_pre_auth_tx(future.hash()), 1))).successful
    assert net.account(alice.public_key)["subentry_count"] == 2
    assert submit_and_close(net, future.to_xdr()).successful
    assert native(net, bob) == "103.0000000"
    assert net.account(alice.public_key)["subentry_count"] == 1  # the pre-auth signer is consumed


def test_persistence_of_trustlines_signers_data_and_claimable_balances(tmp_path):
    net = new_network(str(tmp_path))
    issuer, alice, cosigner = funded(net, "100", "100", "100")
    usd = issue(net, issuer, alice)
    assert run(net, issuer, lambda b: b.append_payment_op(alice.public_key, usd, "42")
               .append_create_claimable_balance_op(usd, "3", [Claimant(alice.public_key)])).successful
    assert run(net, alice, lambda b: b.append_manage_data_op("note", b"hi")
               .append_set_options_op(signer=Signer.ed25519_public_key(cosigner.public_key, 5))).successful
    before = net.account(alice.public_key)
    cbs = net.claimable_balances(cursor=None, order="asc", limit=10, claimant=alice.public_key)
    del net

    again = new_network(str(tmp_path))
    assert again.account(alice.public_key) == before
    assert again.claimable_balances(cursor=None, order="asc", limit=10, claimant=alice.public_key) == cbs
    assert run(again, alice, lambda b: b.append_claim_claimable_balance_op(cbs[0]["id"])).successful
    assert balance_of(again, alice, "USD") == "45.0000000"
    payments = again.operations(account=alice.public_key, cursor=None, order="asc", limit=10, payments_only=True)
    assert [p["type"] for p in payments] == ["create_account", "payment"]
