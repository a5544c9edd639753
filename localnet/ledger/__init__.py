"""The ledger of localnet: state, validity, operations, results, history and persistence."""
from .envelope import MalformedEnvelope
from .network import Network, SubmitOutcome, TxResult

__all__ = ["Network", "SubmitOutcome", "TxResult", "MalformedEnvelope"]
