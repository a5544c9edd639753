"""Encoding helpers shared by the ledger: strkeys, amounts, times, assets and the XDR results.

Everything here is hot (called per operation), so results that repeat are cached.
"""
import base64
import hashlib
import struct
from datetime import datetime, timezone

from stellar_sdk import StrKey
from stellar_sdk import xdr as X

STROOPS = 10_000_000
INT64_MAX = 2**63 - 1

_b64 = base64.b64encode


def b64(data: bytes) -> str:
    return _b64(data).decode()


def amount(stroops: int) -> str:
    """Horizon's 7-decimal amount string."""
    sign = "-" if stroops < 0 else ""
    stroops = abs(stroops)
    return f"{sign}{stroops // STROOPS}.{stroops % STROOPS:07d}"


_time_cache: dict[int, str] = {}


def rfc3339(ts: int) -> str:
    s = _time_cache.get(ts)
    if s is None:
        s = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if len(_time_cache) > 100_000:
            _time_cache.clear()
        _time_cache[ts] = s
    return s


_g_cache: dict[bytes, str] = {}


def g(raw: bytes) -> str:
    """G... address of a raw ed25519 key (cached: StrKey encoding costs microseconds)."""
    s = _g_cache.get(raw)
    if s is None:
        s = _g_cache[raw] = StrKey.encode_ed25519_public_key(raw)
    return s


def m(raw: bytes, mux_id: int) -> str:
    return StrKey.encode_med25519_public_key(raw + struct.pack(">Q", mux_id))


def parse_g(account_id: str) -> bytes:
    """Raw key of a G... address; ValueError when malformed."""
    try:
        return StrKey.decode_ed25519_public_key(account_id)
    except Exception as exc:  # the sdk raises its own error types
        raise ValueError(f"invalid account id: {account_id!r}") from exc


def muxed(mx) -> tuple[bytes, int | None]:
    """(raw key, mux id or None) of an XDR MuxedAccount."""
    if mx.ed25519 is not None:
        return mx.ed25519.uint256, None
    return mx.med25519.ed25519.uint256, mx.med25519.id.uint64


def account_id_raw(aid) -> bytes:
    return aid.account_id.ed25519.uint256


# An asset inside the ledger is None (native) or (code, issuer_raw).
def asset_key(a):
    t = a.type.value
    if t == 0:
        return None
    if t == 1:
        return a.alpha_num4.asset_code.asset_code4.rstrip(b"\0").decode("ascii", "replace"), account_id_raw(
            a.alpha_num4.issuer)
    if t == 2:
        return a.alpha_num12.asset_code.asset_code12.rstrip(b"\0").decode("ascii", "replace"), account_id_raw(
            a.alpha_num12.issuer)
    raise ValueError("pool share asset")


def asset_code_valid(code: str, alpha12: bool) -> bool:
    n = len(code)
    return code.isascii() and code.isalnum() and (5 <= n <= 12 if alpha12 else 1 <= n <= 4)


def asset_fields(asset, prefix: str = "") -> dict:
    if asset is None:
        return {prefix + "asset_type": "native"}
    code, issuer = asset
    return {prefix + "asset_type": "credit_alphanum4" if len(code) <= 4 else "credit_alphanum12",
            prefix + "asset_code": code, prefix + "asset_issuer": g(issuer)}


def asset_string(asset) -> str:
    return "native" if asset is None else f"{asset[0]}:{g(asset[1])}"


def parse_asset_string(s: str):
    if s == "native":
        return None
    code, _, issuer = s.partition(":")
    if not (1 <= len(code) <= 12 and code.isascii() and code.isalnum()):
        raise ValueError(f"invalid asset: {s!r}")
    return code, parse_g(issuer)


# ---- results -------------------------------------------------------------------------------------

TX_CODES = {c.value: "tx_" + n for c, n in [
    (X.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS, "fee_bump_inner_success"),
    (X.TransactionResultCode.txSUCCESS, "success"), (X.TransactionResultCode.txFAILED, "failed"),
    (X.TransactionResultCode.txTOO_EARLY, "too_early"), (X.TransactionResultCode.txTOO_LATE, "too_late"),
    (X.TransactionResultCode.txMISSING_OPERATION, "missing_operation"),
    (X.TransactionResultCode.txBAD_SEQ, "bad_seq"), (X.TransactionResultCode.txBAD_AUTH, "bad_auth"),
    (X.TransactionResultCode.txINSUFFICIENT_BALANCE, "insufficient_balance"),
    (X.TransactionResultCode.txNO_ACCOUNT, "no_source_account"),
    (X.TransactionResultCode.txINSUFFICIENT_FEE, "insufficient_fee"),
    (X.TransactionResultCode.txBAD_AUTH_EXTRA, "bad_auth_extra"),
    (X.TransactionResultCode.txINTERNAL_ERROR, "internal_error"),
    (X.TransactionResultCode.txNOT_SUPPORTED, "not_supported"),
    (X.TransactionResultCode.txFEE_BUMP_INNER_FAILED, "fee_bump_inner_failed"),
    (X.TransactionResultCode.txBAD_SPONSORSHIP, "bad_sponsorship"),
    (X.TransactionResultCode.txBAD_MIN_SEQ_AGE_OR_GAP, "bad_min_seq_age_or_gap"),
    (X.TransactionResultCode.txMALFORMED, "malformed")]}
TX_CODE_VALUE = {v: k for k, v in TX_CODES.items()}

# Per operation type: the OperationResultTr field, the result class, its code enum, and Horizon's short
# names for the codes (stellar/go services/horizon/internal/codes).
_SPECIAL_NAMES = {
    "CREATE_ACCOUNT_ALREADY_EXIST": "op_already_exists", "OVER_SENDMAX": "op_over_source_max",
    "UNDER_DESTMIN": "op_under_dest_min", "OFFER_CROSS_SELF": "op_cross_self",
    "NOT_AUTH_MAINTAIN_LIABILITIES": "op_not_authorized_to_maintain_liabilities",
    "ALLOW_TRUST_NO_TRUST_LINE": "op_no_trustline", "TRUST_NOT_REQUIRED": "op_not_required",
    "NAME_NOT_FOUND": "op_data_name_not_found", "INVALID_NAME": "op_data_invalid_name",
    "SEQNUM_TOO_FAR": "op_seq_num_too_far",
}
_OP_TABLE_SPEC = {
    0: ("create_account_result", X.CreateAccountResult, X.CreateAccountResultCode, "CREATE_ACCOUNT_"),
    1: ("payment_result", X.PaymentResult, X.PaymentResultCode, "PAYMENT_"),
    2: ("path_payment_strict_receive_result", X.PathPaymentStrictReceiveResult,
        X.PathPaymentStrictReceiveResultCode, "PATH_PAYMENT_STRICT_RECEIVE_"),
    5: ("set_options_result", X.SetOptionsResult, X.SetOptionsResultCode, "SET_OPTIONS_"),
    6: ("change_trust_result", X.ChangeTrustResult, X.ChangeTrustResultCode, "CHANGE_TRUST_"),
    7: ("allow_trust_result", X.AllowTrustResult, X.AllowTrustResultCode, "ALLOW_TRUST_"),
    8: ("account_merge_result", X.AccountMergeResult, X.AccountMergeResultCode, "ACCOUNT_MERGE_"),
    10: ("manage_data_result", X.ManageDataResult, X.ManageDataResultCode, "MANAGE_DATA_"),
    11: ("bump_seq_result", X.BumpSequenceResult, X.BumpSequenceResultCode, "BUMP_SEQUENCE_"),
    13: ("path_payment_strict_send_result", X.PathPaymentStrictSendResult, X.PathPaymentStrictSendResultCode,
         "PATH_PAYMENT_STRICT_SEND_"),
    14: ("create_claimable_balance_result", X.CreateClaimableBalanceResult, X.CreateClaimableBalanceResultCode,
         "CREATE_CLAIMABLE_BALANCE_"),
    15: ("claim_claimable_balance_result", X.ClaimClaimableBalanceResult, X.ClaimClaimableBalanceResultCode,
         "CLAIM_CLAIMABLE_BALANCE_"),
    21: ("set_trust_line_flags_result", X.SetTrustLineFlagsResult, X.SetTrustLineFlagsResultCode,
         "SET_TRUST_LINE_FLAGS_"),
}


def _short_name(member: str, prefix: str) -> str:
    if member in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[member]
    rest = member[len(prefix):]
    if rest in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[rest]
    return "op_" + rest.lower()


OP_CODES: dict[int, dict[str, object]] = {}  # op type -> short name -> code enum member
for _t, (_f, _cls, _enum, _prefix) in _OP_TABLE_SPEC.items():
    OP_CODES[_t] = {_short_name(mem.name, _prefix): mem for mem in _enum}
    OP_CODES[_t]["op_success"] = _enum(0)

OP_LEVEL = {"op_bad_auth": X.OperationResultCode.opBAD_AUTH,
            "op_no_source_account": X.OperationResultCode.opNO_ACCOUNT,
            "op_not_supported": X.OperationResultCode.opNOT_SUPPORTED,
            "op_too_many_subentries": X.OperationResultCode.opTOO_MANY_SUBENTRIES}

_op_result_cache: dict[tuple[int, str], X.OperationResult] = {}


def op_result(op_type: int, code: str, payload: dict | None = None) -> X.OperationResult:
    """The XDR OperationResult for a short code; payload holds success data (balance id, ...)."""
    if payload is None:
        cached = _op_result_cache.get((op_type, code))
        if cached is not None:
            return cached
    if code in OP_LEVEL:
        res = X.OperationResult(OP_LEVEL[code])
    elif op_type not in OP_CODES:
        res = X.OperationResult(X.OperationResultCode.opNOT_SUPPORTED)
    else:
        field, cls, _enum, _p = _OP_TABLE_SPEC[op_type]
        inner = cls(OP_CODES[op_type][code], **(payload or {}))
        res = X.OperationResult(X.OperationResultCode.opINNER,
                                X.OperationResultTr(X.OperationType(op_type), **{field: inner}))
    if payload is None:
        _op_result_cache[(op_type, code)] = res
    return res


_EXT0 = X.TransactionResultExt(0)
_tx_result_cache: dict[tuple, str] = {}


def tx_result_xdr(fee: int, code: str, ops: list | None, inner: tuple | None = None) -> str:
    """Base64 TransactionResult.

    ops is a list of (op_type, short_code, payload). For a fee bump, inner is
    (inner_hash, inner_code, ops) and `code` is the outer code. Results without payloads repeat
    constantly (every single payment looks alike), so their encoding is cached.
    """
    key = None
    if ops is not None and inner is None and all(p is None for _t, _c, p in ops):
        key = (fee, code, tuple((t, c) for t, c, _p in ops))
        cached = _tx_result_cache.get(key)
        if cached is not None:
            return cached
    if inner is None:
        results = None if ops is None else [op_result(t, c, p) for t, c, p in ops]
        rr = X.TransactionResultResult(X.TransactionResultCode(TX_CODE_VALUE[code]), results=results)
    else:
        inner_hash, inner_code, inner_ops = inner
        results = None if inner_ops is None else [op_result(t, c, p) for t, c, p in inner_ops]
        irr = X.InnerTransactionResultResult(X.TransactionResultCode(TX_CODE_VALUE[inner_code]), results=results)
        pair = X.InnerTransactionResultPair(X.Hash(inner_hash),
                                            X.InnerTransactionResult(X.Int64(0), irr,
                                                                     X.InnerTransactionResultExt(0)))
        rr = X.TransactionResultResult(X.TransactionResultCode(TX_CODE_VALUE[code]), inner_result_pair=pair)
    out = X.TransactionResult(X.Int64(fee), rr, _EXT0).to_xdr()
    if key is not None:
        if len(_tx_result_cache) > 10_000:
            _tx_result_cache.clear()
        _tx_result_cache[key] = out
    return out


_meta_cache: dict[int, str] = {}


def tx_meta_xdr(n_ops: int) -> str:
    """A minimal TransactionMeta v3: no ledger entry changes, one empty OperationMeta per operation."""
    s = _meta_cache.get(n_ops)
    if s is None:
        empty = X.LedgerEntryChanges([])
        s = _meta_cache[n_ops] = X.TransactionMeta(3, v3=X.TransactionMetaV3(
            X.ExtensionPoint(0), empty, [X.OperationMeta(empty) for _ in range(n_ops)], empty, None)).to_xdr()
    return s


FEE_META_XDR = X.LedgerEntryChanges([]).to_xdr()


def balance_id(tx_source: bytes, seq: int, op_index: int) -> str:
    """Hex ClaimableBalanceID: v0 + sha256(HashIDPreimage ENVELOPE_TYPE_OP_ID), as core derives it."""
    pre = X.HashIDPreimage(
        X.EnvelopeType.ENVELOPE_TYPE_OP_ID,
        operation_id=X.HashIDPreimageOperationID(
            X.AccountID(X.PublicKey(X.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, X.Uint256(tx_source))),
            X.SequenceNumber(X.Int64(seq)), X.Uint32(op_index)))
    return "00000000" + hashlib.sha256(pre.to_xdr_bytes()).hexdigest()


def balance_id_xdr(hex_id: str) -> X.ClaimableBalanceID:
    return X.ClaimableBalanceID(X.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0,
                                v0=X.Hash(bytes.fromhex(hex_id[8:])))


def parse_balance_id(s: str) -> str:
    """Normalise a balance id (hex, with or without the 00000000 type prefix); ValueError if malformed."""
    s = s.lower()
    if len(s) == 64:
        s = "00000000" + s
    if len(s) != 72 or not s.startswith("00000000"):
        raise ValueError(f"invalid claimable balance id: {s!r}")
    bytes.fromhex(s)
    return s
