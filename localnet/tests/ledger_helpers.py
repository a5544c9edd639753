"""Shared helpers for the ledger tests: build real envelopes with stellar-sdk and drive a Network."""
from stellar_sdk import Account, Keypair, TransactionBuilder
from stellar_sdk import xdr as X

from localnet.ledger import Network

PASSPHRASE = "Standalone Network ; February 2017"


def new_network(data_dir=None) -> Network:
    return Network(PASSPHRASE, data_dir)


def funded(net: Network, *balances: str) -> list[Keypair]:
    kps = [Keypair.random() for _ in balances]
    for kp, bal in zip(kps, balances):
        assert net.fund(kp.public_key, bal).status == "PENDING"
    net.close_ledger()
    return kps


def builder(net: Network, kp: Keypair, seq_offset: int = 0, base_fee: int = 100, **kw) -> TransactionBuilder:
    seq = int(net.account(kp.public_key)["sequence"]) + seq_offset
    return TransactionBuilder(Account(kp.public_key, seq), PASSPHRASE, base_fee=base_fee, **kw)


def sign(tb: TransactionBuilder, *signers: Keypair, timeout: int = 300):
    tx = tb.set_timeout(timeout).build() if timeout is not None else tb.build()
    for s in signers:
        tx.sign(s)
    return tx


def submit_and_close(net: Network, envelope_xdr: str):
    """Submit, close a ledger and return the TxResult (submission errors come back unchanged)."""
    out = net.submit(envelope_xdr)
    if out.status == "ERROR":
        return out.result
    assert out.status == "PENDING"
    net.close_ledger()
    return net.result(out.hash)


def decode(result_xdr: str) -> X.TransactionResult:
    """Proves the result XDR is a valid TransactionResult (and re-encodes to the same bytes)."""
    res = X.TransactionResult.from_xdr(result_xdr)
    assert res.to_xdr() == result_xdr
    return res


def native(net: Network, kp: Keypair) -> str:
    return net.account(kp.public_key)["balances"][-1]["balance"]


def balance_of(net: Network, kp: Keypair, code: str) -> str | None:
    for b in net.account(kp.public_key)["balances"]:
        if b.get("asset_code") == code:
            return b["balance"]
    return None
