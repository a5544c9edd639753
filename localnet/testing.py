"""Starts a real `python -m localnet` process for tests and benchmarks (any suite may import this)."""

import hashlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from stellar_sdk import Keypair

STANDALONE_PASSPHRASE = "Standalone Network ; February 2017"
_READY = re.compile(r"^localnet ready on (\S+) root=(\S+) passphrase=(.*)$")
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class LocalnetProcess:
    url: str
    passphrase: str
    root: str  # the root account's G... address; it holds every lumen
    process: subprocess.Popen = field(repr=False)

    @property
    def root_keypair(self) -> Keypair:
        """The standalone convention: the root seed is the SHA-256 of the passphrase."""
        return Keypair.from_raw_ed25519_seed(hashlib.sha256(self.passphrase.encode()).digest())

    def create_accounts(self, keypairs, starting_balance: str = "1000") -> dict:
        """Creates the accounts from the root account in one transaction; returns once it is in a ledger.

        No time bounds: a fast-closing localnet's clock may run ahead of ours (and friendbot's maxTime = now
        can fail as tx_too_late once a ledger closes in a later second).
        """
        from stellar_sdk import Server, TransactionBuilder

        root = self.root_keypair
        with Server(self.url) as server:
            builder = TransactionBuilder(server.load_account(root.public_key), self.passphrase, base_fee=100)
            for keypair in keypairs:
                builder.append_create_account_op(keypair.public_key, starting_balance)
            envelope = builder.add_time_bounds(0, 0).build()
            envelope.sign(root)
            return server.submit_transaction(envelope)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start(
    *,
    close_interval: float = 0.2,
    passphrase: str = STANDALONE_PASSPHRASE,
    data_dir: str | None = None,
    faults: bool = False,
    port: int = 0,
    host: str = "127.0.0.1",
    log_level: str = "warning",
    stderr=None,
    timeout: float = 30.0,
) -> LocalnetProcess:
    """Launches localnet (port 0 = a free port, no race) and returns once it prints its ready line."""
    cmd = [
        sys.executable, "-m", "localnet",
        "--host", host, "--port", str(port),
        "--network-passphrase", passphrase,
        "--close-interval", str(close_interval),
        "--log-level", log_level,
    ]  # fmt: skip
    if data_dir:
        cmd += ["--data-dir", data_dir]
    if faults:
        cmd.append("--faults")
    proc = subprocess.Popen(cmd, cwd=_REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines: queue.Queue = queue.Queue()

    def pump():
        # Keep draining stdout after the ready line so the child can never block on a full pipe.
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=timeout)
            if line is None:
                raise RuntimeError(f"localnet exited with code {proc.wait()} before it was ready: {' '.join(cmd)}")
            ready = _READY.match(line.rstrip("\n"))
            if ready:
                return LocalnetProcess(ready[1], ready[3], ready[2], proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
