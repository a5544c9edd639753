"""What submit() and result() hand to the HTTP server."""
from dataclasses import dataclass


@dataclass
class TxResult:
    successful: bool
    result_xdr: str       # base64 TransactionResult (the fee bump's for fee bumps)
    result_codes: dict    # Horizon's extras.result_codes


@dataclass
class SubmitOutcome:
    hash: str
    status: str           # "PENDING", "DUPLICATE" or "ERROR"
    result: TxResult | None = None
