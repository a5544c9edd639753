"""Deposit throughput: 1,000 ready deposits (some with their own memo) paid by process_pending_deposits.

    .venv/bin/python bench/deposits.py [--postgres] [--runs 3] [--deposits 1000] [--memo-every 10]
                                       [--close-interval 1.0] [--max-channels 110]

Starts a real localnet process, creates a throw-away database (SQLite by default, PostgreSQL with
--postgres), an issued asset and 100 destination accounts with trustlines, then for each run queues the
deposits in pending_anchor (as poll_pending_deposits leaves them) and runs passes until all are completed.
Prints deposits per second and per ledger close for each run and the median. Channel accounts are created
in a warm-up run first, so the runs measure steady state. Target: >= 100 deposits per ledger close.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL (127.0.0.1:5432) instead of SQLite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deposits", type=int, default=1000)
    parser.add_argument("--memo-every", type=int, default=10, help="every Nth deposit has its own memo")
    parser.add_argument("--close-interval", type=float, default=1.0, help="localnet seconds between ledgers")
    parser.add_argument("--max-channels", type=int, default=110, help="enough for 100 memo deposits + 10 batches in one pass")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    os.environ["POLARIS_TEST_DB"] = "postgres" if args.postgres else "sqlite"
    os.environ["DJANGO_SETTINGS_MODULE"] = "polaris.tests.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from localnet import testing as localnet_testing

    net = localnet_testing.start(close_interval=args.close_interval)
    database = connection.creation.create_test_db(verbosity=0)
    try:
        with override_settings(POLARIS_HORIZON_URI=net.url, POLARIS_STELLAR_NETWORK_PASSPHRASE=net.passphrase):
            results = run(net, args)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        net.stop()
    per_second = statistics.median(r[0] for r in results)
    per_ledger = statistics.median(r[1] for r in results)
    print(f"median of {len(results)} runs on {connection.vendor}: {per_second:.0f} deposits/s, "
          f"{per_ledger:.0f} deposits per ledger close (localnet closes every {args.close_interval}s)")


def run(net, args) -> list[tuple[float, float]]:
    import requests

    from polaris.engine.deposits import Options, process_pending_deposits
    from polaris.engine.tests.test_deposits_support import Ledger, ready_deposits
    from polaris.models import Asset, Transaction

    ledger = Ledger(net)
    asset = Asset(code="USDX", issuer=ledger.issuer.public_key, significant_decimals=2)
    asset.distribution_seed = ledger.distribution.secret
    asset.save()
    users = [user.public_key for user in ledger.new_accounts(100)]
    options = Options(max_channels=args.max_channels, resolve_after=0)

    def latest_ledger() -> int:
        return requests.get(f"{net.url}/ledgers", params={"order": "desc", "limit": 1},
                            timeout=10).json()["_embedded"]["records"][0]["sequence"]

    def one_run(count: int) -> tuple[float, float]:
        deposits = ready_deposits(asset, [users[i % len(users)] for i in range(count)], memo_every=args.memo_every)
        ids = [deposit.pk for deposit in deposits]
        first_ledger, started = latest_ledger(), time.monotonic()
        while Transaction.objects.filter(pk__in=ids).exclude(status=Transaction.STATUS.completed).exists():
            process_pending_deposits(options)
        elapsed, ledgers = time.monotonic() - started, latest_ledger() - first_ledger
        return count / elapsed, count / max(1, ledgers), elapsed, ledgers

    one_run(args.max_channels * 2)  # warm-up: creates the channel accounts
    results = []
    for number in range(1, args.runs + 1):
        per_second, per_ledger, elapsed, ledgers = one_run(args.deposits)
        print(f"run {number}: {args.deposits} deposits in {elapsed:.2f}s over {ledgers} ledger closes: "
              f"{per_second:.0f} deposits/s, {per_ledger:.0f} per ledger close")
        results.append((per_second, per_ledger))
    return results


if __name__ == "__main__":
    main()
