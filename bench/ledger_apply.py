"""Ledger-only throughput: applied payment operations per second (submit + close, no HTTP).

Run: .venv/bin/python bench/ledger_apply.py [--runs 5] [--ops 3000]
Prints the median of several runs, for single-operation transactions and for 100-operation ones: per
wall-clock second, and per CPU second of this process, which moves much less when other work shares the
machine.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stellar_sdk import Account, Asset, Keypair, TransactionBuilder  # noqa: E402

from localnet.ledger import Network  # noqa: E402

PASSPHRASE = "Standalone Network ; February 2017"


def setup(n_sources: int):
    net = Network(PASSPHRASE)
    sources = [Keypair.random() for _ in range(n_sources)]
    dest = Keypair.random()
    for kp in sources + [dest]:
        net.fund(kp.public_key, "100000")
    net.close_ledger()
    return net, sources, dest


def build(net, sources, dest, ops_per_tx: int, total_ops: int) -> list[str]:
    envelopes = []
    accounts = [Account(kp.public_key, int(net.account(kp.public_key)["sequence"])) for kp in sources]
    i = 0
    while len(envelopes) * ops_per_tx < total_ops:
        kp, acc = sources[i % len(sources)], accounts[i % len(sources)]
        tb = TransactionBuilder(acc, PASSPHRASE, base_fee=100)
        for _ in range(ops_per_tx):
            tb.append_payment_op(dest.public_key, Asset.native(), "0.0000001")
        tx = tb.set_timeout(3600).build()
        tx.sign(kp)
        envelopes.append(tx.to_xdr())
        i += 1
    return envelopes


def run(ops_per_tx: int, total_ops: int) -> tuple[float, float]:
    """(ops per wall-clock second, ops per CPU second)"""
    net, sources, dest = setup(max(1, min(50, total_ops // ops_per_tx)))
    envelopes = build(net, sources, dest, ops_per_tx, total_ops)
    start, cpu_start = time.perf_counter(), time.process_time()
    for env in envelopes:
        out = net.submit(env)
        assert out.status == "PENDING", out
    led = net.close_ledger()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert led["operation_count"] == len(envelopes) * ops_per_tx, led
    return led["operation_count"] / elapsed, led["operation_count"] / cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ops", type=int, default=3000)
    args = ap.parse_args()
    for ops_per_tx in (1, 100):
        rates = [run(ops_per_tx, args.ops) for _ in range(args.runs)]
        print(f"{ops_per_tx:>3}-op transactions: {statistics.median(r[0] for r in rates):8.0f} payment ops/s, "
              f"{statistics.median(r[1] for r in rates):8.0f} per CPU second "
              f"(median of {args.runs}, {args.ops} ops per run; submit + apply, no HTTP)")


if __name__ == "__main__":
    main()
