"""The fast envelope decoder against stellar_sdk's: same objects for every shape it takes, None otherwise."""
import warnings
import base64
import random

import pytest
from stellar_sdk import Account, Asset, Keypair, MuxedAccount, TransactionBuilder
from stellar_sdk import xdr as X

from localnet.ledger import fastxdr

from .ledger_helpers import PASSPHRASE, new_network, sign

SRC = Keypair.random()
DEST = Keypair.random()
ISSUER = Keypair.random()
MUXED_DEST = MuxedAccount(DEST.public_key, 2**64 - 1).account_muxed


def _builder(source=SRC.public_key, seq=2**62, fee=100):
    return TransactionBuilder(Account(source, seq), PASSPHRASE, base_fee=fee)


def _xdr(tb, signers=(SRC,), timeout=300) -> bytes:
    if timeout is not None:
        tb.set_timeout(timeout)
    with warnings.catch_warnings():  # the sdk warns about envelopes without time bounds; we want one
        warnings.simplefilter("ignore")
        tx = tb.build()
    for s in signers:
        tx.sign(s)
    return tx.to_xdr_object().to_xdr_bytes()


def _payments(tb, n=1, asset=Asset.native(), dest=DEST.public_key, source=None):
    for _ in range(n):
        tb.append_payment_op(dest, asset, "12.3456789", source=source)
    return tb


SUPPORTED = {
    "one native payment": _xdr(_payments(_builder())),
    "100 payments": _xdr(_payments(_builder(), 100)),
    "alphanum4": _xdr(_payments(_builder(), asset=Asset("USD", ISSUER.public_key))),
    "alphanum12": _xdr(_payments(_builder(), asset=Asset("LONGCODE1234", ISSUER.public_key))),
    "muxed destination": _xdr(_payments(_builder(), dest=MUXED_DEST)),
    "muxed source": _xdr(_payments(_builder(source=MuxedAccount(SRC.public_key, 7).account_muxed))),
    "op source": _xdr(_payments(_builder(), source=MuxedAccount(DEST.public_key, 3).account_muxed), (SRC, DEST)),
    "plain op source": _xdr(_payments(_builder(), source=DEST.public_key), (SRC, DEST)),
    "create account": _xdr(_builder().append_create_account_op(DEST.public_key, "1.5")),
    "mixed ops": _xdr(_payments(_builder().append_create_account_op(DEST.public_key, "2"), 3)),
    "text memo": _xdr(_payments(_builder().add_text_memo("x" * 28))),
    "short text memo": _xdr(_payments(_builder().add_text_memo("héllo"))),
    "empty text memo": _xdr(_payments(_builder().add_text_memo(""))),
    "id memo": _xdr(_payments(_builder().add_id_memo(2**64 - 1))),
    "hash memo": _xdr(_payments(_builder().add_hash_memo(bytes(range(32))))),
    "return memo": _xdr(_payments(_builder().add_return_hash_memo(bytes(range(32, 64))))),
    "no time bounds": _xdr(_payments(_builder()), timeout=None),
    "explicit time bounds": _xdr(_payments(_builder().add_time_bounds(5, 2**40)), timeout=None),
    "unsigned": _xdr(_payments(_builder()), signers=()),
    "three signatures": _xdr(_payments(_builder()), signers=(SRC, DEST, ISSUER)),
    "negative sequence and large fee": _xdr(_payments(_builder(seq=-5, fee=2**32 // 2 - 1))),
}


def _unsupported():
    inner = sign(_payments(_builder()), SRC)
    fee_bump = TransactionBuilder.build_fee_bump_transaction(DEST.public_key, 200, inner, PASSPHRASE)
    v0 = X.TransactionEnvelope.from_xdr_bytes(SUPPORTED["one native payment"])
    v1 = v0.v1
    v0_env = X.TransactionEnvelope(X.EnvelopeType.ENVELOPE_TYPE_TX_V0, v0=X.TransactionV0Envelope(
        X.TransactionV0(v1.tx.source_account.ed25519, v1.tx.fee, v1.tx.seq_num, v1.tx.cond.time_bounds, v1.tx.memo,
                        v1.tx.operations, X.TransactionV0Ext(0)), v1.signatures))
    return {
        "fee bump": fee_bump.to_xdr_object().to_xdr_bytes(),
        "v0 envelope": v0_env.to_xdr_bytes(),
        "ledger bounds (v2 preconditions)": _xdr(_payments(_builder().set_ledger_bounds(1, 0))),
        "change trust": _xdr(_builder().append_change_trust_op(Asset("USD", ISSUER.public_key))),
        "payment then set options": _xdr(_payments(_builder()).append_set_options_op(home_domain="x.org")),
    }


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_same_objects_as_the_sdk(name):
    raw = SUPPORTED[name]
    fast = fastxdr.decode(raw)
    assert fast is not None
    assert fast == X.TransactionEnvelope.from_xdr_bytes(raw)
    assert fast.to_xdr_bytes() == raw


@pytest.mark.parametrize("name", sorted(_unsupported()))
def test_other_shapes_are_left_to_the_sdk(name):
    raw = _unsupported()[name]
    X.TransactionEnvelope.from_xdr_bytes(raw)  # valid XDR, just not a shape the fast path takes
    assert fastxdr.decode(raw) is None


def _sdk_or_none(raw):
    try:
        return X.TransactionEnvelope.from_xdr_bytes(raw)
    except Exception:
        return None


@pytest.mark.parametrize("name", ["mixed ops", "text memo", "muxed source", "op source", "alphanum12"])
def test_corrupted_inputs_never_disagree_with_the_sdk(name):
    """Truncations, extensions and random byte changes: the fast path answers None or exactly the sdk's object."""
    raw = SUPPORTED[name]
    rng = random.Random(name)
    variants = [raw[:n] for n in range(len(raw))] + [raw + b"\0" * 4, raw + b"\1"]
    for _ in range(3000):
        b = bytearray(raw)
        for _ in range(rng.choice((1, 1, 2, 3))):
            i = rng.randrange(len(b))
            b[i] = rng.choice((0, 1, 2, 0xFF, rng.randrange(256)))
        variants.append(bytes(b))
    accepted = 0
    for v in variants:
        fast = fastxdr.decode(v)
        if fast is not None:
            accepted += 1
            assert fast == _sdk_or_none(v), v.hex()
    assert accepted > 100  # most single-byte changes (keys, amounts, signatures) are still well-formed


def test_network_results_match_with_and_without_the_fast_path(monkeypatch):
    """The same envelopes applied through the fast decoder and through the sdk leave identical history."""
    records = []
    for use_fast in (True, False):
        if not use_fast:
            monkeypatch.setattr(fastxdr, "decode", lambda raw: None)
        net = new_network()
        # Same keys in both runs, so both networks see byte-identical envelopes.
        rng = random.Random(7)
        a, b = (Keypair.from_raw_ed25519_seed(bytes(rng.randrange(256) for _ in range(32))) for _ in range(2))
        for kp in (a, b):
            net.fund(kp.public_key, "1000")
        net.close_ledger(close_time=1000)
        seq = int(net.account(a.public_key)["sequence"])
        envs = []
        for i, (memo, asset) in enumerate([("x", Asset.native()), (None, Asset("USD", b.public_key))]):
            tb = TransactionBuilder(Account(a.public_key, seq + i), PASSPHRASE, base_fee=100)
            tb.append_payment_op(MuxedAccount(b.public_key, 9).account_muxed, asset, "1")
            if memo:
                tb.add_text_memo(memo)
            tx = tb.add_time_bounds(0, 0).build()
            tx.sign(a)
            envs.append(tx.to_xdr())
            assert (fastxdr.decode(base64.b64decode(envs[-1])) is not None) == use_fast
        outcomes = [net.submit(e) for e in envs]
        net.close_ledger(close_time=1001)
        results = [net.result(o.hash) for o in outcomes]
        records.append((outcomes, results, net.transactions(cursor=None, order="asc", limit=50, include_failed=True),
                        net.operations(cursor=None, order="asc", limit=50, include_failed=True),
                        net.account(a.public_key), net.account(b.public_key), net.latest_ledger()))
    assert records[0] == records[1]
    assert [r.result_codes for r in records[0][1]] == [
        {"transaction": "tx_success"}, {"transaction": "tx_failed", "operations": ["op_src_no_trust"]}]
