"""A fast decoder for the envelopes clients send most: v1 transactions of payments and account creations.

stellar_sdk's generic unpacker costs ~40 µs for a one-payment envelope (an Unpacker call and an enum
lookup per field), a fifth of the server's time per submitted transaction. `decode` reads the common shape
with struct and builds the very same stellar_sdk objects (tests compare it with the sdk on every shape and
on corrupted inputs); anything else (fee bumps, v0, other operations, v2 preconditions, Soroban ext,
truncated or oversized data) returns None and the caller uses the sdk.
"""
import struct

from stellar_sdk import xdr as X

_U32 = struct.Struct(">I").unpack_from
_I64 = struct.Struct(">q").unpack_from
_U64 = struct.Struct(">Q").unpack_from
_U64X2 = struct.Struct(">QQ").unpack_from

_ED25519 = X.CryptoKeyType.KEY_TYPE_ED25519
_MUXED = X.CryptoKeyType.KEY_TYPE_MUXED_ED25519
_PK_ED25519 = X.PublicKeyType.PUBLIC_KEY_TYPE_ED25519
_ENVELOPE_TX = X.EnvelopeType.ENVELOPE_TYPE_TX
_COND = (X.PreconditionType.PRECOND_NONE, X.PreconditionType.PRECOND_TIME)
_MEMO = tuple(X.MemoType(i) for i in range(5))
_ASSET = tuple(X.AssetType(i) for i in range(3))
_CREATE_ACCOUNT = X.OperationType.CREATE_ACCOUNT
_PAYMENT = X.OperationType.PAYMENT
_NO_EXT = X.TransactionExt(0)

_MAX_OPS = 100       # the sdk refuses more
_MAX_SIGS = 20
_MAX_MEMO_TEXT = 28
_MAX_SIGNATURE = 64


class _Unsupported(Exception):
    """Not a shape this decoder handles (or not valid XDR at all): the sdk decides."""


def _muxed(b: bytes, p: int):
    kind = _U32(b, p)[0]
    if kind == 0:
        key = b[p + 4:p + 36]
        if len(key) != 32:
            raise _Unsupported
        return X.MuxedAccount(_ED25519, X.Uint256(key)), p + 36
    if kind == 0x100:
        key = b[p + 12:p + 44]
        if len(key) != 32:
            raise _Unsupported
        med = X.MuxedAccountMed25519(X.Uint64(_U64(b, p + 4)[0]), X.Uint256(key))
        return X.MuxedAccount(_MUXED, med25519=med), p + 44
    raise _Unsupported


def _account_id(b: bytes, p: int):
    key = b[p + 4:p + 36]
    if _U32(b, p)[0] != 0 or len(key) != 32:
        raise _Unsupported
    return X.AccountID(X.PublicKey(_PK_ED25519, X.Uint256(key))), p + 36


def _asset(b: bytes, p: int):
    kind = _U32(b, p)[0]
    if kind == 0:
        return X.Asset(_ASSET[0]), p + 4
    if kind == 1:
        code = b[p + 4:p + 8]
        if len(code) != 4:
            raise _Unsupported
        issuer, p = _account_id(b, p + 8)
        return X.Asset(_ASSET[1], alpha_num4=X.AlphaNum4(X.AssetCode4(code), issuer)), p
    if kind == 2:
        code = b[p + 4:p + 16]
        if len(code) != 12:
            raise _Unsupported
        issuer, p = _account_id(b, p + 16)
        return X.Asset(_ASSET[2], alpha_num12=X.AlphaNum12(X.AssetCode12(code), issuer)), p
    raise _Unsupported


def _memo(b: bytes, p: int):
    kind = _U32(b, p)[0]
    if kind == 0:
        return X.Memo(_MEMO[0]), p + 4
    if kind == 1:
        n = _U32(b, p + 4)[0]
        end = p + 8 + ((n + 3) & ~3)
        if n > _MAX_MEMO_TEXT or end > len(b):
            raise _Unsupported
        return X.Memo(_MEMO[1], text=b[p + 8:p + 8 + n]), end
    if kind == 2:
        return X.Memo(_MEMO[2], id=X.Uint64(_U64(b, p + 4)[0])), p + 12
    if kind in (3, 4):
        h = b[p + 4:p + 36]
        if len(h) != 32:
            raise _Unsupported
        if kind == 3:
            return X.Memo(_MEMO[3], hash=X.Hash(h)), p + 36
        return X.Memo(_MEMO[4], ret_hash=X.Hash(h)), p + 36
    raise _Unsupported


def _operation(b: bytes, p: int):
    has_source = _U32(b, p)[0]
    source = None
    p += 4
    if has_source:
        source, p = _muxed(b, p)
    kind = _U32(b, p)[0]
    if kind == 1:
        dest, p = _muxed(b, p + 4)
        asset, p = _asset(b, p)
        body = X.OperationBody(_PAYMENT, payment_op=X.PaymentOp(dest, asset, X.Int64(_I64(b, p)[0])))
        return X.Operation(source, body), p + 8
    if kind == 0:
        dest, p = _account_id(b, p + 4)
        body = X.OperationBody(_CREATE_ACCOUNT, create_account_op=X.CreateAccountOp(dest, X.Int64(_I64(b, p)[0])))
        return X.Operation(source, body), p + 8
    raise _Unsupported


def _decode(b: bytes) -> X.TransactionEnvelope:
    if _U32(b, 0)[0] != 2:
        raise _Unsupported
    source, p = _muxed(b, 4)
    fee = X.Uint32(_U32(b, p)[0])
    seq = X.SequenceNumber(X.Int64(_I64(b, p + 4)[0]))
    p += 12
    cond_kind = _U32(b, p)[0]
    if cond_kind == 0:
        cond = X.Preconditions(_COND[0])
        p += 4
    elif cond_kind == 1:
        lo, hi = _U64X2(b, p + 4)
        cond = X.Preconditions(_COND[1], X.TimeBounds(X.TimePoint(X.Uint64(lo)), X.TimePoint(X.Uint64(hi))))
        p += 20
    else:
        raise _Unsupported
    memo, p = _memo(b, p)
    n = _U32(b, p)[0]
    if n > _MAX_OPS:
        raise _Unsupported
    p += 4
    ops = []
    for _ in range(n):
        op, p = _operation(b, p)
        ops.append(op)
    if _U32(b, p)[0] != 0:
        raise _Unsupported
    tx = X.Transaction(source, fee, seq, cond, memo, ops, _NO_EXT)
    n = _U32(b, p + 4)[0]
    if n > _MAX_SIGS:
        raise _Unsupported
    p += 8
    sigs = []
    for _ in range(n):
        hint = b[p:p + 4]
        size = _U32(b, p + 4)[0]
        end = p + 8 + ((size + 3) & ~3)
        if size > _MAX_SIGNATURE or end > len(b):
            raise _Unsupported
        sigs.append(X.DecoratedSignature(X.SignatureHint(hint), X.Signature(b[p + 8:p + 8 + size])))
        p = end
    if p != len(b):
        raise _Unsupported
    return X.TransactionEnvelope(_ENVELOPE_TX, v1=X.TransactionV1Envelope(tx, sigs))


def decode(raw: bytes) -> X.TransactionEnvelope | None:
    """The envelope as stellar_sdk would decode it, or None when the sdk must decide."""
    try:
        return _decode(raw)
    except (_Unsupported, struct.error):
        return None
