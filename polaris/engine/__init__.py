"""The payment engine: status transitions, deposits, the watcher, payouts and the callback outbox."""
