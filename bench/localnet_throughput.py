"""Localnet benchmark: applied payment operations per second, and ledger-close-to-SSE delivery delay.

    .venv/bin/python bench/localnet_throughput.py [--runs 3] [--close-interval 0.25] [--workers 32]

Throughput: envelopes are built and signed before the clock starts (one per source account, so no source
ever waits on its own sequence), then sent by many concurrent workers to POST /transactions_async. The
rate is applied operations / (close time of the ledger that applied the last one - first send). The client
shares the machine's cores with the server, so each run also prints the CPU seconds the server and this client
used (per operation, and as a share of one core over the run; the server's is read from /proc): a server near
100% of a core is the limit, and a busy client or other work on the machine can be too. The load average is
printed at the start and the end.

Delivery delay: a ledger's `closed_at` has 1-second resolution, so the server is run with `--log-level
info`, which logs each close with a microsecond wall-clock timestamp taken right after the ledger is
applied and before streams are woken. A client on an open `/payments?cursor=now` stream stamps each
event on arrival (same machine, same clock); the ledger comes from the record's paging token (TOID >> 32).
"""

import argparse
import asyncio
import itertools
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from localnet.testing import start  # noqa: E402

CLOSE_LINE = re.compile(r"closed ledger (\d+) at ([\d.]+) in ([\d.]+) ms: (\d+) ops in (\d+) txs, (\d+) failed")


class CloseLog:
    """Parses the server's per-close log lines: seq -> (wall time, apply ms, ops, failed txs)."""

    def __init__(self, stream):
        self.closes: dict[int, tuple[float, float, int, int]] = {}
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            m = CLOSE_LINE.search(line)
            if m:
                self.closes[int(m[1])] = (float(m[2]), float(m[3]), int(m[4]), int(m[6]))

    def since(self, t0: float):
        return sorted((seq, c) for seq, c in list(self.closes.items()) if c[0] >= t0)


async def post_tx(session, url, envelope_xdr, path="/transactions"):
    async with session.post(url + path, data={"tx": envelope_xdr}) as resp:
        body = await resp.json(content_type=None)
        if resp.status not in (200, 201):
            raise RuntimeError(f"{path} answered {resp.status}: {body}")
        return body


async def create_accounts(session, net, n: int) -> list[tuple[Keypair, int]]:
    """n funded accounts (100 per transaction from root), with their starting sequence numbers."""
    root = net.root_keypair
    async with session.get(f"{net.url}/accounts/{root.public_key}") as resp:
        root_account = Account(root.public_key, int((await resp.json())["sequence"]))
    keys = [Keypair.random() for _ in range(n)]
    for i in range(0, n, 100):
        builder = TransactionBuilder(root_account, net.passphrase, 100)
        for kp in keys[i : i + 100]:
            builder.append_create_account_op(kp.public_key, "1000")
        tx = builder.set_timeout(300).build()
        tx.sign(root)
        await post_tx(session, net.url, tx.to_xdr())

    async def seq(kp):
        async with session.get(f"{net.url}/accounts/{kp.public_key}") as resp:
            return kp, int((await resp.json())["sequence"])

    return list(await asyncio.gather(*(seq(kp) for kp in keys)))


def build_envelopes(net, sources, ops_per_tx: int, dest: str) -> list[str]:
    """One envelope per source, each `ops_per_tx` 1-stroop payments; advances the sources' sequences."""
    envelopes = []
    for i, (kp, seq) in enumerate(sources):
        builder = TransactionBuilder(Account(kp.public_key, seq), net.passphrase, 100)
        for _ in range(ops_per_tx):
            builder.append_payment_op(dest, Asset.native(), "0.0000001")
        tx = builder.set_timeout(300).build()
        tx.sign(kp)
        envelopes.append(tx.to_xdr())
        sources[i] = (kp, seq + 1)
    return envelopes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def throughput_run(session, net, log: CloseLog, envelopes: list[str], ops_per_tx: int, workers: int):
    expected = len(envelopes) * ops_per_tx
    pending = iter(envelopes)
    server_cpu, client_cpu = cpu_seconds(net.process.pid), time.process_time()

    async def worker():
        for envelope in pending:
            body = await post_tx(session, net.url, envelope, "/transactions_async")
            assert body["tx_status"] == "PENDING", body

    t0 = time.time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    sent = time.time()
    while True:
        closes = log.since(t0)
        applied = sum(c[2] for _, c in closes)
        if applied >= expected:
            break
        if time.time() - sent > 60:
            raise RuntimeError(f"only {applied} of {expected} operations applied")
        await asyncio.sleep(0.05)
    server_cpu, client_cpu = cpu_seconds(net.process.pid) - server_cpu, time.process_time() - client_cpu
    wall = time.time() - t0
    failed = sum(c[3] for _, c in closes)
    end = max(c[0] for _, c in closes if c[2])
    return {
        "server_us_per_op": server_cpu / expected * 1e6,
        "client_us_per_op": client_cpu / expected * 1e6,
        "server_share": server_cpu / wall,
        "client_share": client_cpu / wall,
        "ops_per_s": expected / (end - t0),
        "send_s": sent - t0,
        "total_s": end - t0,
        "ledgers": sum(1 for _, c in closes if c[2]),
        "max_apply_ms": max(c[1] for _, c in closes),
        "failed": failed,
    }


async def delivery_run(session, net, log: CloseLog, feeders, dest: str, closes_wanted: int):
    """One payment per ledger from `feeders`, received on an open /payments stream; returns delays in ms."""
    arrivals: dict[int, float] = {}
    ready = asyncio.Event()

    async def listen():
        async with session.get(
            f"{net.url}/accounts/{dest}/payments?cursor=now", headers={"Accept": "text/event-stream"}
        ) as resp:
            ready.set()
            async for line in resp.content:
                if line.startswith(b"id: "):
                    seq = int(line[4:]) >> 32
                    arrivals.setdefault(seq, time.time())

    listener = asyncio.create_task(listen())
    await ready.wait()
    def one_at_a_time():
        # Build each envelope only when it is sent, so an unsent one never advances its feeder's sequence.
        for i in itertools.cycle(range(len(feeders))):
            source = [feeders[i]]
            envelope = build_envelopes(net, source, 1, dest)[0]
            feeders[i] = source[0]
            yield envelope

    envelopes = one_at_a_time()
    last_seq = 0
    while len(arrivals) < closes_wanted:
        await post_tx(session, net.url, next(envelopes), "/transactions_async")
        while max(log.closes, default=0) <= last_seq:  # wait for the ledger that carries it
            await asyncio.sleep(0.005)
        last_seq = max(log.closes)
    await asyncio.sleep(0.2)
    listener.cancel()
    return [(arrivals[seq] - log.closes[seq][0]) * 1000 for seq in sorted(arrivals) if seq in log.closes]


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(args):
    net = start(close_interval=args.close_interval, log_level="info", stderr=subprocess.PIPE)
    log = CloseLog(net.process.stderr)
    try:
        connector = aiohttp.TCPConnector(limit=args.workers)
        async with aiohttp.ClientSession(connector=connector) as session:
            single_n, batch_n = args.single_txs, args.batch_txs
            # Sources for each mode, 60 feeders for the delivery runs, and one destination for everything.
            accounts = await create_accounts(session, net, single_n + batch_n + 60 + 1)
            dest = accounts[-1][0].public_key
            singles, batches, feeders = accounts[:single_n], accounts[single_n : single_n + batch_n], accounts[-61:-1]
            print(f"localnet {net.url}, close interval {args.close_interval}s, {args.workers} client workers, "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
            results = {"1-op": [], "100-op": []}
            for run in range(args.runs):
                for label, sources, ops in (("100-op", batches, 100), ("1-op", singles, 1)):
                    envelopes = build_envelopes(net, sources, ops, dest)
                    r = await throughput_run(session, net, log, envelopes, ops, args.workers)
                    results[label].append(r)
                    print(
                        f"  run {run + 1} {label:>6}: {r['ops_per_s']:7.0f} ops/s  ({len(envelopes) * ops} ops, "
                        f"sent in {r['send_s']:.2f}s, applied in {r['total_s']:.2f}s over {r['ledgers']} ledgers, "
                        f"slowest close {r['max_apply_ms']:.0f} ms, {r['failed']} failed txs; CPU per op: server "
                        f"{r['server_us_per_op']:.0f} us, client {r['client_us_per_op']:.0f} us; share of a core: "
                        f"server {r['server_share']:.0%}, client {r['client_share']:.0%})"
                    )
            delays_by_run = []
            for run in range(args.runs):
                delays = await delivery_run(session, net, log, feeders, dest, args.closes)
                delays_by_run.append(delays)
                print(
                    f"  run {run + 1} delivery: median {statistics.median(delays):.1f} ms, p90 {pct(delays, 90):.1f} ms, "
                    f"p99 {pct(delays, 99):.1f} ms over {len(delays)} closes"
                )
        print("medians over runs:")
        for label in ("100-op", "1-op"):
            rs = results[label]
            print(f"  payments sent as {label} transactions: {statistics.median(r['ops_per_s'] for r in rs):.0f} ops/s "
                  f"(CPU per op: server {statistics.median(r['server_us_per_op'] for r in rs):.0f} us, "
                  f"client {statistics.median(r['client_us_per_op'] for r in rs):.0f} us)")
        for name, p in (("median", 50), ("p90", 90), ("p99", 99)):
            print(f"  close-to-SSE delay {name}: {statistics.median(pct(d, p) for d in delays_by_run):.1f} ms")
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        net.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--close-interval", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--single-txs", type=int, default=3000, help="1-op transactions per run")
    parser.add_argument("--batch-txs", type=int, default=100, help="100-op transactions per run")
    parser.add_argument("--closes", type=int, default=50, help="ledgers per delivery run")
    asyncio.run(main(parser.parse_args()))
