"""`python -m examples.sandbox_bank [--host H] [--port P] [--db PATH] [--settle-after S] [--currency C]`

Prints one line, `sandbox bank ready on http://HOST:PORT`, once it accepts connections (launchers wait for
it; with --port 0 it names the port the OS chose), and exits 0 on SIGTERM or SIGINT after closing the file.
"""

import argparse
import asyncio
import logging
import os
import signal

from aiohttp import web

from .server import make_app
from .store import Bank

DEFAULT_DB = os.path.join("var", "sandbox_bank.sqlite3")


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.sandbox_bank", description="The sandbox bank: a JSON HTTP API over a SQLite file (see README.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100, help="0 picks a free port (default 8100)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--settle-after", type=float, default=2.0, metavar="SECONDS",
                        help="delay before an initiated payment is delivered or failed; 0 = on the next read")
    parser.add_argument("--currency", default="USD", help="currency of the anchor's account when first created")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    db_dir = os.path.dirname(os.path.abspath(args.db))
    os.makedirs(db_dir, exist_ok=True)
    bank = Bank(args.db, settle_after=args.settle_after, anchor_currency=args.currency)
    runner = web.AppRunner(make_app(bank), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"sandbox bank ready on http://{args.host}:{port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        bank.close()


def main(argv=None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox_bank %(levelname)s %(message)s")
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
