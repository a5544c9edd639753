"""Fixtures that run the real bank process; every test talks to it over HTTP only."""

import pytest
import requests

from examples.sandbox_bank.testing import BankProcess


class Api:
    """A thin JSON client so tests read as the HTTP calls they make."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None, **kwargs) -> tuple[int, dict]:
        response = requests.request(method, self.url + path, json=body, timeout=10, **kwargs)
        assert response.headers["Content-Type"].startswith("application/json"), response.text
        return response.status_code, response.json()

    def ok(self, method: str, path: str, body=None, status: int = 200, **kwargs) -> dict:
        got, data = self.call(method, path, body, **kwargs)
        assert got == status, data
        return data

    def account(self, currency: str = "USD", cash: str | None = None, name: str = "Customer") -> dict:
        account = self.ok("POST", "/accounts", {"name": name, "currency": currency}, status=201)
        if cash:
            account = self.ok("POST", f"/accounts/{account['id']}/cash", {"amount": cash})
        return account

    def balance(self, account_id: str) -> str:
        return self.ok("GET", f"/accounts/{account_id}")["balance"]


@pytest.fixture
def start_bank(tmp_path):
    """Starts banks on files under tmp_path (settle_after defaults to an hour: tests settle by hand)."""
    started = []

    def start(settle_after: float = 3600, db: str = "bank.sqlite3") -> BankProcess:
        bank = BankProcess(str(tmp_path / db), settle_after=settle_after, log_path=str(tmp_path / f"bank{len(started)}.log"))
        started.append(bank.start())
        return bank

    yield start
    for bank in started:
        bank.stop()


@pytest.fixture
def api(start_bank) -> Api:
    return Api(start_bank().url)


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory):
    """One bank for a module's many small requests that do not care about each other's state."""
    tmp = tmp_path_factory.mktemp("bank")
    with BankProcess(str(tmp / "bank.sqlite3"), settle_after=3600, log_path=str(tmp / "bank.log")) as bank:
        yield Api(bank.url)
