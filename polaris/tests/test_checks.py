from django.core.checks import run_checks

from polaris.checks import sqlite_warnings
from polaris.sqlite import sqlite_database


def test_a_sqlite_database_without_immediate_transactions_and_wal_is_warned_about(tmp_path):
    plain = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "plain.sqlite3"), "OPTIONS": {"timeout": 20}}
    [warning] = sqlite_warnings({"default": plain, "other": sqlite_database(tmp_path / "anchor.sqlite3")})
    assert warning.id == "polaris.W001" and "'default'" in warning.msg
    assert sqlite_warnings({"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "anchor"}}) == []


def test_the_test_settings_pass_polaris_checks():
    assert [message.id for message in run_checks() if message.id.startswith("polaris.")] == []
