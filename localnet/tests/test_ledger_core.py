"""The ledger core driven with real stellar-sdk envelopes: accounts, payments, validity, history, persistence."""
import hashlib

import pytest
from stellar_sdk import Account, Asset, Keypair, MuxedAccount, TransactionBuilder
from stellar_sdk import xdr as X

from localnet.ledger import MalformedEnvelope

from .ledger_helpers import PASSPHRASE, builder, decode, funded, native, new_network, sign, submit_and_close


@pytest.fixture
def net():
    return new_network()


def test_genesis_root_holds_all_lumens(net):
    seed = hashlib.sha256(PASSPHRASE.encode()).digest()
    assert net.root_keypair.secret == Keypair.from_raw_ed25519_seed(seed).secret
    led = net.latest_ledger()
    assert led["sequence"] == 1 and led["total_coins"] == "100000000000.0000000"
    root = net.account(net.root_keypair.public_key)
    assert root["balances"] == [{"balance": "100000000000.0000000", "buying_liabilities": "0.0000000",
                                 "selling_liabilities": "0.0000000", "asset_type": "native"}]
    assert root["sequence"] == "0"
    header = X.LedgerHeader.from_xdr(led["header_xdr"])
    assert header.ledger_seq.uint32 == 1
    assert hashlib.sha256(header.to_xdr_bytes()).hexdigest() == led["hash"]


def test_create_account_and_payment_with_history(net):
    a, = funded(net, "1000")
    acct = net.account(a.public_key)
    assert acct["sequence"] == str(2 << 32) and native(net, a) == "1000.0000000"
    b = Keypair.random()
    tx = sign(builder(net, a).append_create_account_op(b.public_key, "100")
              .append_payment_op(b.public_key, Asset.native(), "2.5").add_text_memo("hello"), a)
    res = submit_and_close(net, tx.to_xdr())
    assert res.successful and res.result_codes == {"transaction": "tx_success"}
    xr = decode(res.result_xdr)
    assert xr.fee_charged.int64 == 200
    assert xr.result.results[1].tr.payment_result.code == X.PaymentResultCode.PAYMENT_SUCCESS
    assert native(net, b) == "102.5000000"
    assert native(net, a) == "897.4999800"

    rec = net.transaction(tx.hash_hex())
    assert rec["ledger"] == 3 and rec["successful"] is True
    assert int(rec["paging_token"]) == (3 << 32) | (1 << 12)
    assert rec["memo_type"] == "text" and rec["memo"] == "hello" and rec["memo_bytes"] == "aGVsbG8="
    assert rec["fee_charged"] == "200" and rec["max_fee"] == "200" and rec["source_account_sequence"] == str((2 << 32) + 1)
    assert rec["preconditions"]["timebounds"]["min_time"] == "0"
    X.TransactionMeta.from_xdr(rec["result_meta_xdr"])
    X.LedgerEntryChanges.from_xdr(rec["fee_meta_xdr"])

    ops = net.operations(account=b.public_key, cursor=None, order="asc", limit=10)
    assert [o["type"] for o in ops] == ["create_account", "payment"]
    assert ops[0]["starting_balance"] == "100.0000000" and ops[0]["funder"] == a.public_key
    assert ops[1]["amount"] == "2.5000000" and ops[1]["to"] == b.public_key
    assert int(ops[1]["paging_token"]) == (3 << 32) | (1 << 12) | 2
    pays = net.operations(account=b.public_key, cursor=int(ops[0]["paging_token"]), order="asc", limit=10,
                          payments_only=True)
    assert [p["type"] for p in pays] == ["payment"]
    assert [t["hash"] for t in net.transactions(account=b.public_key, cursor=None, order="desc", limit=5)] == [
        tx.hash_hex()]
    assert net.transactions(ledger=3, cursor=None, order="asc", limit=5)[0]["hash"] == tx.hash_hex()
    assert [lg["sequence"] for lg in net.ledgers(cursor=2 << 32, order="asc", limit=5)] == [3]
    assert [lg["sequence"] for lg in net.ledgers(cursor=None, order="desc", limit=2)] == [3, 2]
    assert net.ledgers(cursor=net.now_cursor(), order="asc", limit=5) == []


def test_several_queued_transactions_from_one_source(net):
    a, b = funded(net, "100", "100")
    envs = [sign(builder(net, a, seq_offset=i).append_payment_op(b.public_key, Asset.native(), "1"), a).to_xdr()
            for i in range(3)]
    assert [net.submit(e).status for e in envs] == ["PENDING"] * 3
    assert net.submit(envs[0]).status == "DUPLICATE"
    led = net.close_ledger()
    assert led["successful_transaction_count"] == 3 and led["operation_count"] == 3
    assert native(net, b) == "103.0000000"


def test_bad_seq_insufficient_fee_and_wrong_network(net):
    a, b = funded(net, "100", "100")
    bad_seq = sign(builder(net, a, seq_offset=5).append_payment_op(b.public_key, Asset.native(), "1"), a)
    out = net.submit(bad_seq.to_xdr())
    assert out.status == "ERROR" and out.result.result_codes == {"transaction": "tx_bad_seq"}
    assert decode(out.result.result_xdr).result.code == X.TransactionResultCode.txBAD_SEQ

    cheap = sign(builder(net, a, base_fee=50).append_payment_op(b.public_key, Asset.native(), "1"), a)
    assert net.submit(cheap.to_xdr()).result.result_codes["transaction"] == "tx_insufficient_fee"

    seq = int(net.account(a.public_key)["sequence"])
    other = sign(TransactionBuilder(Account(a.public_key, seq), "Test SDF Network ; September 2015", 100)
                 .append_payment_op(b.public_key, Asset.native(), "1"), a)
    assert net.submit(other.to_xdr()).result.result_codes["transaction"] == "tx_bad_auth"

    unsigned = sign(builder(net, a).append_payment_op(b.public_key, Asset.native(), "1"))
    assert net.submit(unsigned.to_xdr()).result.result_codes["transaction"] == "tx_bad_auth"
    extra = sign(builder(net, a).append_payment_op(b.public_key, Asset.native(), "1"), a, b)
    assert net.submit(extra.to_xdr()).result.result_codes["transaction"] == "tx_bad_auth_extra"

    with pytest.raises(MalformedEnvelope):
        net.submit("not-xdr")
    ghost = Keypair.random()
    no_src = sign(TransactionBuilder(Account(ghost.public_key, 1), PASSPHRASE, 100)
                  .append_payment_op(b.public_key, Asset.native(), "1"), ghost)
    assert net.submit(no_src.to_xdr()).result.result_codes["transaction"] == "tx_no_source_account"


def test_fee_must_be_covered_including_queued_fees(net):
    a, b = funded(net, "1.0000150", "10")
    first = sign(builder(net, a).append_payment_op(b.public_key, Asset.native(), "0.0000001"), a)
    assert net.submit(first.to_xdr()).status == "PENDING"
    second = sign(builder(net, a, seq_offset=1).append_payment_op(b.public_key, Asset.native(), "0.0000001"), a)
    assert net.submit(second.to_xdr()).result.result_codes["transaction"] == "tx_insufficient_balance"


def test_time_bounds(net):
    a, b = funded(net, "100", "100")
    now = net.next_close_time()
    early = builder(net, a).append_payment_op(b.public_key, Asset.native(), "1").add_time_bounds(now + 1000, 0)
    assert net.submit(sign(early, a, timeout=None).to_xdr()).result.result_codes["transaction"] == "tx_too_early"
    late = builder(net, a).append_payment_op(b.public_key, Asset.native(), "1").add_time_bounds(0, now - 10)
    assert net.submit(sign(late, a, timeout=None).to_xdr()).result.result_codes["transaction"] == "tx_too_late"
    ok = builder(net, a).append_payment_op(b.public_key, Asset.native(), "1").add_time_bounds(now - 10, now + 100)
    assert submit_and_close(net, sign(ok, a, timeout=None).to_xdr()).successful


def test_failed_transaction_charges_fee_consumes_seq_and_rolls_back(net):
    a, b = funded(net, "100", "100")
    seq_before = int(net.account(a.public_key)["sequence"])
    tx = sign(builder(net, a).append_payment_op(b.public_key, Asset.native(), "10")
              .append_payment_op(b.public_key, Asset.native(), "1000"), a)
    res = submit_and_close(net, tx.to_xdr())
    assert not res.successful
    assert res.result_codes == {"transaction": "tx_failed", "operations": ["op_success", "op_underfunded"]}
    xr = decode(res.result_xdr)
    assert xr.fee_charged.int64 == 200
    assert xr.result.results[1].tr.payment_result.code == X.PaymentResultCode.PAYMENT_UNDERFUNDED
    assert native(net, a) == "99.9999800" and native(net, b) == "100.0000000"
    assert int(net.account(a.public_key)["sequence"]) == seq_before + 1
    assert net.transactions(account=a.public_key, cursor=None, order="desc", limit=1)[0]["hash"] != tx.hash_hex()
    failed = net.transactions(account=a.public_key, cursor=None, order="desc", limit=1, include_failed=True)[0]
    assert failed["hash"] == tx.hash_hex() and failed["successful"] is False
    ops = net.operations(tx_hash=tx.hash_hex(), cursor=None, order="asc", limit=10)
    assert [o["transaction_successful"] for o in ops] == [False, False]
    assert net.latest_ledger()["failed_transaction_count"] == 1


def test_fee_bump(net):
    a, sponsor, b = funded(net, "100", "100", "100")
    inner = sign(builder(net, a, base_fee=0).append_payment_op(b.public_key, Asset.native(), "5"), a)
    fb = TransactionBuilder.build_fee_bump_transaction(sponsor.public_key, 100, inner, PASSPHRASE)
    fb.sign(sponsor)
    res = submit_and_close(net, fb.to_xdr())
    assert res.successful
    xr = decode(res.result_xdr)
    assert xr.result.code == X.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS
    assert xr.result.inner_result_pair.transaction_hash.hash == inner.hash()
    assert xr.fee_charged.int64 == 200
    assert native(net, sponsor) == "99.9999800" and native(net, a) == "95.0000000"
    rec = net.transaction(fb.hash_hex())
    assert rec["fee_account"] == sponsor.public_key and rec["source_account"] == a.public_key
    assert rec["inner_transaction"]["hash"] == inner.hash_hex() and rec["fee_bump_transaction"]["hash"] == fb.hash_hex()
    assert net.transaction(inner.hash_hex())["hash"] == inner.hash_hex()

    low = TransactionBuilder.build_fee_bump_transaction(
        sponsor.public_key, 100, sign(builder(net, a, base_fee=0).append_payment_op(
            b.public_key, Asset.native(), "5"), a), PASSPHRASE)
    low.transaction.fee = 100  # the sdk refuses to build it; the ledger must refuse it too
    low.sign(sponsor)
    assert net.submit(low.to_xdr()).result.result_codes["transaction"] == "tx_insufficient_fee"
    bad_inner = sign(builder(net, a, seq_offset=3, base_fee=0).append_payment_op(b.public_key, Asset.native(), "5"), a)
    fb2 = TransactionBuilder.build_fee_bump_transaction(sponsor.public_key, 100, bad_inner, PASSPHRASE)
    fb2.sign(sponsor)
    out = net.submit(fb2.to_xdr())
    assert out.result.result_codes == {"transaction": "tx_fee_bump_inner_failed", "inner_transaction": "tx_bad_seq"}
    decode(out.result.result_xdr)


def test_muxed_source_and_destination(net):
    a, b = funded(net, "100", "100")
    mb = MuxedAccount(b.public_key, 42)
    ma = MuxedAccount(a.public_key, 7)
    seq = int(net.account(a.public_key)["sequence"])
    tx = sign(TransactionBuilder(Account(ma, seq), PASSPHRASE, 100).append_payment_op(
        mb.account_muxed, Asset.native(), "3"), a)
    assert submit_and_close(net, tx.to_xdr()).successful
    assert native(net, b) == "103.0000000"
    rec = net.transaction(tx.hash_hex())
    assert rec["account_muxed"] == ma.account_muxed and rec["account_muxed_id"] == "7"
    op = net.operations(tx_hash=tx.hash_hex(), cursor=None, order="asc", limit=1)[0]
    assert op["to"] == b.public_key and op["to_muxed"] == mb.account_muxed and op["to_muxed_id"] == "42"
    assert op["from_muxed_id"] == "7"
    assert net.operations(account=b.public_key, cursor=None, order="asc", limit=10, payments_only=True)[-1] == op


def test_account_merge(net):
    a, b = funded(net, "100", "100")
    tx = sign(builder(net, a).append_account_merge_op(b.public_key), a)
    res = submit_and_close(net, tx.to_xdr())
    assert res.successful
    xr = decode(res.result_xdr)
    assert xr.result.results[0].tr.account_merge_result.source_account_balance.int64 == 100 * 10**7 - 100
    assert net.account(a.public_key) is None
    assert native(net, b) == "199.9999900"
    op = net.operations(account=b.public_key, cursor=None, order="desc", limit=1)[0]
    assert op["type"] == "account_merge" and op["account"] == a.public_key and op["into"] == b.public_key


def test_set_options_data_and_bump_sequence(net):
    a, = funded(net, "100")
    tx = sign(builder(net, a).append_set_options_op(home_domain="example.com", set_flags=1 | 2)
              .append_manage_data_op("k", b"v").append_bump_sequence_op(10**12), a)
    assert submit_and_close(net, tx.to_xdr()).successful
    acct = net.account(a.public_key)
    assert acct["home_domain"] == "example.com" and acct["flags"]["auth_required"] and acct["flags"]["auth_revocable"]
    assert acct["data"] == {"k": "dg=="} and acct["subentry_count"] == 1 and acct["sequence"] == str(10**12)
    assert net.account_data(a.public_key, "k") == b"v"
    tx = sign(builder(net, a).append_manage_data_op("k", None), a)
    assert submit_and_close(net, tx.to_xdr()).successful
    assert net.account(a.public_key)["data"] == {}


def test_persistence_keeps_state_and_continues_sequence(tmp_path):
    net = new_network(str(tmp_path))
    a, b = funded(net, "100", "50")
    tx = sign(builder(net, a).append_payment_op(b.public_key, Asset.native(), "7"), a)
    assert submit_and_close(net, tx.to_xdr()).successful
    last = net.latest_ledger()
    del net

    again = new_network(str(tmp_path))
    assert again.latest_ledger() == last
    assert native(again, b) == "57.0000000" and native(again, a) == "92.9999900"
    assert again.transaction(tx.hash_hex())["successful"] is True
    assert again.result(tx.hash_hex()).successful
    tx2 = sign(builder(again, b).append_payment_op(a.public_key, Asset.native(), "1"), b)
    assert submit_and_close(again, tx2.to_xdr()).successful
    assert again.latest_ledger()["sequence"] == last["sequence"] + 1
    assert again.latest_ledger()["prev_hash"] == last["hash"]
    assert native(again, a) == "93.9999900"
