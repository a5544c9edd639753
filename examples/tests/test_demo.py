"""`make demo` as a newcomer runs it: every process starts, the anchor answers, the workers stay up."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The demo always uses its own SQLite database, so the PostgreSQL run would only repeat it.
@pytest.mark.sqlite_only
def test_demo_starts_everything_and_stops_cleanly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--check", "--var-dir", str(tmp_path),
         "--localnet-port", str(_free_port()), "--anchor-port", str(_free_port()),
         "--bank-port", str(_free_port())],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    logs = "\n".join(f"--- {log.name}\n{log.read_text()[-1500:]}" for log in (tmp_path / "logs").glob("*.log"))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{logs}"
    assert "demo check passed" in result.stdout
    assert "asset USDC:" in result.stdout
