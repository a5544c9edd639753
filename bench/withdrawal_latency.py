"""Delay from the close of the ledger holding a withdrawal's payment to its execute_outgoing_transaction call.

    .venv/bin/python bench/withdrawal_latency.py [-n 40] [--close-interval 1.0] [--postgres]

Starts a real localnet, a sandbox bank, and the demo anchor's `watch_transactions --loop` and
`execute_outgoing_transactions --loop` (the seed's AnchorRails over the bank), on a fresh SQLite file or,
with --postgres, a fresh PostgreSQL database on 127.0.0.1. N withdrawals are paid on localnet from several
payers at once. The close moment of each ledger is when its record arrives on the bench's own /ledgers
stream; the call moment is the payout's committed "started" mark (`Payout.started_at`), written just before
the integration is called. Prints the median, p99 and max of the delay. Target: under one second.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone as dt_timezone
from decimal import Decimal
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from localnet.testing import start as start_localnet  # noqa: E402

from examples.sandbox_bank.testing import BankProcess  # noqa: E402

PAYERS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=40, help="withdrawals to pay (default 40)")
    parser.add_argument("--close-interval", type=float, default=1.0, help="localnet's seconds between ledgers")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1 instead of SQLite")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="withdrawal_latency_"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "examples.anchor.settings", "POLARIS_LOG_LEVEL": "WARNING"}
    database = None
    if args.postgres:
        import psycopg

        database = f"bench_withdrawal_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    else:
        env["ANCHOR_VAR_DIR"] = str(workdir)
    net = start_localnet(close_interval=args.close_interval)
    bank = BankProcess(str(workdir / "bank.sqlite3"), settle_after=60).start()
    env.update(HORIZON_URI=net.url, SANDBOX_BANK_URL=bank.url)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ANCHOR_VAR_DIR", "HORIZON_URI") if k in env})
    os.environ["DJANGO_SETTINGS_MODULE"] = "examples.anchor.settings"
    workers = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        delays = run(args, net, bank, env, workdir, workers)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(15)
        bank.stop()
        net.stop()
        if database:
            from django.db import connections

            connections.close_all()
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    delays.sort()
    p99 = delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))]
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"withdrawal latency ({db}, {len(delays)} withdrawals, ledger close every {args.close_interval}s): "
          f"ledger close -> execute_outgoing_transaction median {statistics.median(delays) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")  # fmt: skip


def run(args, net, bank, env, workdir, workers) -> list[float]:
    from stellar_sdk import Asset as StellarAsset
    from stellar_sdk import Keypair, Server, TransactionBuilder
    from stellar_sdk.memo import IdMemo

    from polaris.models import Asset, Payout, Transaction

    issuer, distribution = Keypair.random(), Keypair.random()
    payers = [Keypair.random() for _ in range(PAYERS)]
    usd = StellarAsset("USD", issuer.public_key)

    def submit(source, add_ops, signers=()):
        with Server(net.url) as server:
            builder = TransactionBuilder(server.load_account(source.public_key), net.passphrase, 100)
            add_ops(builder)
            envelope = builder.add_time_bounds(0, 0).build()
            for keypair in (source, *signers):
                envelope.sign(keypair)
            return server.submit_transaction(envelope)

    def setup_accounts(builder):
        for keypair in (issuer, distribution, *payers):
            builder.append_create_account_op(keypair.public_key, "1000")

    submit(net.root_keypair, setup_accounts)

    def trust(builder):
        for keypair in (distribution, *payers):
            builder.append_change_trust_op(usd, source=keypair.public_key)
        for payer in payers:
            builder.append_payment_op(payer.public_key, usd, "100000")

    submit(issuer, trust, signers=(distribution, *payers))

    asset = Asset.objects.create(code="USD", issuer=issuer.public_key, distribution_seed=distribution.secret)
    customer = requests.post(f"{bank.url}/accounts", json={"name": "bench", "currency": "USD"}, timeout=10).json()
    withdrawals = [
        Transaction.objects.create(
            kind="withdrawal", protocol="sep24", status="pending_user_transfer_start", asset=asset,
            amount_expected=Decimal(10), amount_in=Decimal(10), amount_fee=Decimal(1), amount_out=Decimal(9),
            receiving_anchor_account=distribution.public_key, memo=str(i + 1), memo_type="id",
            to_address=customer["id"],
        )
        for i in range(args.n)
    ]  # fmt: skip

    close_seen: dict[int, float] = {}
    threading.Thread(target=watch_ledgers, args=(net.url, close_seen), daemon=True).start()
    manage = str(REPO / "examples" / "anchor" / "manage.py")
    for name in ("watch_transactions", "execute_outgoing_transactions"):
        log = open(workdir / f"{name}.log", "wb")
        workers.append(subprocess.Popen([sys.executable, manage, name, "--loop", "--interval", "5"], cwd=REPO,
                                        env=env, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    from polaris.models import StreamCursor

    wait(lambda: StreamCursor.objects.filter(account=distribution.public_key).exists(), "the watcher to start")
    time.sleep(1.0)  # let the executor reach its LISTEN / poll loop

    def pay(chunk):
        payer, items = chunk
        ledgers = {}
        for t in items:
            result = submit(payer, lambda b: b.add_memo(IdMemo(int(t.memo))).append_payment_op(
                distribution.public_key, usd, "10"))  # fmt: skip
            ledgers[t.id] = result["ledger"]
        return ledgers

    chunks = [(payers[i], withdrawals[i::PAYERS]) for i in range(PAYERS)]
    ledger_of = {}
    with ThreadPoolExecutor(PAYERS) as pool:
        for ledgers in pool.map(pay, chunks):
            ledger_of.update(ledgers)
    wait(lambda: Payout.objects.filter(started_at__isnull=False).count() == args.n, "every payout to start", 60)
    delays = []
    for payout in Payout.objects.all():
        closed = close_seen[ledger_of[payout.transaction_id]]
        delays.append(payout.started_at.astimezone(dt_timezone.utc).timestamp() - closed)
    return delays


def watch_ledgers(url: str, close_seen: dict) -> None:
    """Notes when each ledger record arrives on a /ledgers stream: the moment the ledger closed, give or take
    the event loop turn localnet takes to push it."""
    with requests.get(f"{url}/ledgers", params={"cursor": "now"}, headers={"Accept": "text/event-stream"},
                      stream=True, timeout=(10, 60)) as response:  # fmt: skip
        for raw in response.iter_lines(chunk_size=None):
            line = raw.decode()
            if line.startswith("data:") and line[5:].strip().startswith("{"):
                close_seen[json.loads(line[5:])["sequence"]] = time.time()


def wait(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
