"""System checks (``manage.py check``, run before every command) for settings a running anchor needs."""

from django.conf import settings
from django.core.checks import Warning, register

from polaris import sqlite


@register()
def check_sqlite_databases(app_configs=None, **kwargs) -> list:
    return sqlite_warnings(settings.DATABASES)


def sqlite_warnings(databases: dict) -> list:
    """polaris.W001: a SQLite database without the options the separate worker processes need."""
    problems = []
    for alias, database in databases.items():
        if database.get("ENGINE") != "django.db.backends.sqlite3":
            continue
        options = database.get("OPTIONS", {})
        if str(options.get("transaction_mode", "")).upper() != "IMMEDIATE" or "WAL" not in options.get(
            "init_command", ""
        ).upper():
            problems.append(
                Warning(
                    f"the SQLite database {alias!r} is used without BEGIN IMMEDIATE and WAL",
                    hint="the web server and the workers write the same file from separate processes; without "
                    "these, requests and worker passes fail with 'database is locked'. Use "
                    "polaris.sqlite.sqlite_database(path) or OPTIONS = polaris.sqlite.OPTIONS.",
                    id="polaris.W001",
                )
            )
    return problems
