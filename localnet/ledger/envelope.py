"""Decoding a submitted envelope once: hashes, signatures and the operations, kept for apply time."""
import base64
import binascii
import hashlib
import struct

from stellar_sdk import xdr as X

from . import fastxdr
from .codec import muxed

_TYPE_TX = struct.pack(">I", 2)
_TYPE_FEE_BUMP = struct.pack(">I", 5)


class MalformedEnvelope(ValueError):
    """The envelope is not valid base64 TransactionEnvelope XDR."""


class TxBody:
    """One (inner) transaction: what validity and apply need, decoded once."""
    __slots__ = ("tx", "hash", "source", "source_mux", "seq", "fee", "ops", "sigs", "verified", "cond")

    def __init__(self, tx, tx_hash: bytes, sigs):
        self.tx = tx
        self.hash = tx_hash
        self.source, self.source_mux = muxed(tx.source_account)
        self.seq = tx.seq_num.sequence_number.int64
        self.fee = tx.fee.uint32
        self.ops = tx.operations
        self.cond = tx.cond
        self.sigs = [(s.hint.signature_hint, s.signature.signature) for s in sigs]
        self.verified: dict = {}  # (signature index, public key, payload) -> bool; apply re-checks for free


class ParsedTx:
    """A decoded envelope; `inner` is the transaction whose operations run."""
    __slots__ = ("envelope_xdr", "hash", "hash_hex", "inner", "fee_bump", "fee_source", "fee_source_mux",
                 "outer_fee", "outer_sigs", "outer_verified")

    def __init__(self, envelope_xdr: str, network_id: bytes):
        self.envelope_xdr = envelope_xdr
        try:
            raw = base64.b64decode(envelope_xdr, validate=True)
            env = fastxdr.decode(raw) or X.TransactionEnvelope.from_xdr_bytes(raw)
        except (binascii.Error, ValueError, EOFError, struct.error, IndexError, TypeError, AttributeError) as exc:
            raise MalformedEnvelope(str(exc)) from exc
        except Exception as exc:  # xdrlib3 raises assorted errors on truncated or bad input
            raise MalformedEnvelope(str(exc)) from exc
        kind = env.type.value
        self.fee_bump = kind == 5
        if kind == 2:
            v1 = env.v1
            # The tx bytes sit between the 4-byte envelope type and the signature array: slicing them
            # avoids re-encoding the transaction just to hash it.
            sig_len = 4 + sum(8 + ((len(s.signature.signature) + 3) & ~3) for s in v1.signatures)
            tx_bytes = raw[4:len(raw) - sig_len]
            h = hashlib.sha256(network_id + _TYPE_TX + tx_bytes).digest()
            self.inner = TxBody(v1.tx, h, v1.signatures)
        elif kind == 0:
            # A v0 transaction hashes as the v1 transaction with a KEY_TYPE_ED25519 source; its bytes are
            # exactly the v0 bytes behind a zero union discriminant.
            v0 = env.v0
            sig_len = 4 + sum(8 + ((len(s.signature.signature) + 3) & ~3) for s in v0.signatures)
            tx_bytes = b"\0\0\0\0" + raw[4:len(raw) - sig_len]
            tx = X.Transaction.from_xdr_bytes(tx_bytes)
            self.inner = TxBody(tx, hashlib.sha256(network_id + _TYPE_TX + tx_bytes).digest(), v0.signatures)
        elif kind == 5:
            fb = env.fee_bump
            inner_env = fb.tx.inner_tx.v1
            inner_hash = hashlib.sha256(network_id + _TYPE_TX + inner_env.tx.to_xdr_bytes()).digest()
            self.inner = TxBody(inner_env.tx, inner_hash, inner_env.signatures)
            h = hashlib.sha256(network_id + _TYPE_FEE_BUMP + fb.tx.to_xdr_bytes()).digest()
            self.fee_source, self.fee_source_mux = muxed(fb.tx.fee_source)
            self.outer_fee = fb.tx.fee.int64
            self.outer_sigs = [(s.hint.signature_hint, s.signature.signature) for s in fb.signatures]
            self.outer_verified = {}
        else:
            raise MalformedEnvelope(f"unsupported envelope type {kind}")
        if not self.fee_bump:
            h = self.inner.hash
            self.fee_source, self.fee_source_mux = self.inner.source, self.inner.source_mux
            self.outer_fee = self.inner.fee
            self.outer_sigs = self.inner.sigs
            self.outer_verified = self.inner.verified
        self.hash = h
        self.hash_hex = h.hex()

    @property
    def num_ops(self) -> int:
        return len(self.inner.ops)

    def fee_ops(self) -> int:
        """Operations the fee is charged for: a fee bump counts as one more."""
        return len(self.inner.ops) + (1 if self.fee_bump else 0)
