"""The SQLite settings under which the web server and the workers, separate processes, can share one file.

Django's defaults suit one process. With several, a transaction that reads and then writes (``BEGIN``
DEFERRED) can fail at once with "database is locked" when another process writes first, without waiting
for the busy timeout; a worker or a request then fails for nothing. ``BEGIN IMMEDIATE`` takes the write
lock up front, so writers queue behind each other for up to ``timeout`` seconds, and WAL lets readers go
on while one writes. ``polaris.checks`` warns about a SQLite database configured without these.

Usage in a project's settings::

    from polaris.sqlite import sqlite_database
    DATABASES = {"default": sqlite_database(BASE_DIR / "anchor.sqlite3")}
"""

from os import PathLike

OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def sqlite_database(name: str | PathLike, **extra) -> dict:
    """A DATABASES entry for the SQLite file ``name``; ``extra`` adds keys such as ``TEST``."""
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(name), "OPTIONS": dict(OPTIONS), **extra}
