"""`make demo`: the whole anchor on one machine, offline.

Starts localnet (a standalone Stellar network), the sandbox bank, the demo anchor's web server and its
four workers; migrates the database and issues the demo asset on first run. State lives in ``var/demo``
so a second run continues where the first stopped. Ctrl-C stops everything.

``--check`` starts it all, checks that the anchor serves its stellar.toml, and stops: the demo's own test.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from stellar_sdk import Keypair

from examples.sandbox_bank.testing import BankProcess
from localnet import testing as localnet_testing

REPO = Path(__file__).resolve().parents[1]
MANAGE = [sys.executable, str(REPO / "examples" / "anchor" / "manage.py")]
# The seed's four workers, and the sender of on_change_callback notifications from the outbox.
WORKERS = [
    "process_pending_deposits",
    "watch_transactions",
    "execute_outgoing_transactions",
    "poll_outgoing_transactions",
    "send_callbacks",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", default=str(REPO / "var" / "demo"))
    parser.add_argument("--localnet-port", type=int, default=8000)
    parser.add_argument("--anchor-port", type=int, default=8001)
    parser.add_argument("--bank-port", type=int, default=8100)
    parser.add_argument("--check", action="store_true", help="start, check the anchor answers, stop")
    options = parser.parse_args()

    var_dir = Path(options.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    keys = demo_keys(var_dir / "keys.json")
    children: list[subprocess.Popen] = []
    localnet = bank = None
    try:
        localnet = localnet_testing.start(
            port=options.localnet_port, data_dir=str(var_dir / "localnet"), close_interval=1.0
        )
        bank = BankProcess(str(var_dir / "bank.sqlite3"), port=options.bank_port, settle_after=5,
                           log_path=str(var_dir / "bank.log")).start()
        host_url = f"http://127.0.0.1:{options.anchor_port}"
        env = anchor_env(localnet, bank, host_url, keys, var_dir)
        prepare_anchor(env)
        logs = var_dir / "logs"
        children = start_anchor(env, options.anchor_port, logs)
        wait_for(f"{host_url}/.well-known/stellar.toml")
        print(
            f"\nThe demo anchor is running.\n"
            f"  anchor        {host_url}  (stellar.toml: {host_url}/.well-known/stellar.toml)\n"
            f"  localnet      {localnet.url}  (Horizon API; friendbot at {localnet.url}/friendbot?addr=G...)\n"
            f"  sandbox bank  {bank.url}  (see examples/sandbox_bank/README.md)\n"
            f"  logs          {logs}\n"
            f"Ctrl-C stops everything.\n",
            flush=True,
        )
        if options.check:
            return _check_children(children)
        return _supervise(children)
    finally:
        stop_children(children)
        if bank is not None:
            bank.stop()
        if localnet is not None:
            localnet.stop()


def anchor_env(localnet, bank, host_url: str, keys: dict, var_dir: Path, **extra: str) -> dict:
    """The anchor's environment: where localnet and the bank are, its URL and keys, its state directory."""
    return dict(
        os.environ,
        HORIZON_URI=localnet.url,
        STELLAR_NETWORK_PASSPHRASE=localnet.passphrase,
        HOST_URL=host_url,
        LOCAL_MODE="true",
        SIGNING_SEED=keys["signing_seed"],
        SERVER_JWT_KEY=keys["jwt_key"],
        DJANGO_SECRET_KEY=keys["django_secret_key"],
        SANDBOX_BANK_URL=bank.url,
        ANCHOR_VAR_DIR=str(var_dir),
        # The demo anchor's own settings, even when started from a process (a test run) that set others.
        DJANGO_SETTINGS_MODULE="examples.anchor.settings",
        **extra,
    )


def prepare_anchor(env: dict) -> None:
    """Migrate the database and issue the demo asset (both do nothing the second time)."""
    subprocess.run(MANAGE + ["migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run(MANAGE + ["demo_asset"], env=env, check=True)


def start_anchor(env: dict, port: int, logs: Path, interval: float = 5.0) -> list[subprocess.Popen]:
    """The anchor's web server and its four workers, each logging to ``logs/<command>.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    # --insecure: with DEBUG off, runserver serves the interactive pages' CSS and JS only when told to; a real
    # deployment serves the collected static files from its web server instead.
    commands = [["runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"]]
    commands += [[worker, "--loop", "--interval", str(interval)] for worker in WORKERS]
    children = []
    for command in commands:
        with open(logs / f"{command[0]}.log", "ab") as log:
            children.append(subprocess.Popen(MANAGE + command, env=env, stdout=log, stderr=subprocess.STDOUT))
    return children


def stop_children(children: list[subprocess.Popen]) -> None:
    """SIGTERM to all, then wait for each (SIGKILL after 10 s)."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


def demo_keys(path: Path) -> dict:
    """The anchor's keys, made once and kept, so restarts keep its identity and its encrypted seeds readable."""
    if path.exists():
        return json.loads(path.read_text())
    keys = {
        "signing_seed": Keypair.random().secret,
        "jwt_key": secrets.token_urlsafe(32),
        "django_secret_key": secrets.token_urlsafe(48),
    }
    path.write_text(json.dumps(keys, indent=2))
    path.chmod(0o600)
    return keys


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the anchor did not answer {url} within {timeout:.0f} s")
        time.sleep(0.2)


def _check_children(children: list[subprocess.Popen]) -> int:
    time.sleep(2)  # long enough for a worker that fails at start-up to exit
    dead = [" ".join(child.args[2:]) for child in children if child.poll() is not None]
    if dead:
        print(f"demo check FAILED: exited early: {dead}", file=sys.stderr)
        return 1
    print("demo check passed: the anchor and its workers are up")
    return 0


def _supervise(children: list[subprocess.Popen]) -> int:
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"{' '.join(child.args[2:])} exited with {child.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
