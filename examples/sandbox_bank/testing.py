"""Start and stop a real sandbox bank process, for this package's tests and the anchor's end-to-end tests.

    with BankProcess(db_path) as bank:          # or bank = BankProcess(...).start(); ...; bank.stop()
        requests.post(f"{bank.url}/accounts", json={...})

It binds port 0 and reads the chosen port from the ready line, so parallel tests never race for a port.
The process writes to a log file (never a pipe nobody drains, which would block it once full); the path is
in `log_path` and the tail is in the error when the bank fails to start.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY_PREFIX = "sandbox bank ready on "


class BankProcess:
    def __init__(self, db_path: str, *, settle_after: float = 2.0, currency: str = "USD",
                 log_path: str | None = None, startup_timeout: float = 15.0, port: int = 0):
        self.db_path = db_path
        self.settle_after = settle_after
        self.currency = currency
        self.log_path = log_path or tempfile.mkstemp(prefix="sandbox_bank_", suffix=".log")[1]
        self.startup_timeout = startup_timeout
        self.port = port
        self.process: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self) -> "BankProcess":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "examples.sandbox_bank", "--port", str(self.port), "--db", self.db_path,
                 "--settle-after", str(self.settle_after), "--currency", self.currency],
                cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            for line in self._log().splitlines():
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX):].strip()
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"sandbox bank did not start; log {self.log_path}:\n{self._log()[-2000:]}")

    def _log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code (0 on a clean stop). Falls back to SIGKILL."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL, for crash tests and failed starts."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "BankProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
