"""Django settings for Polaris' own test suite.

``POLARIS_TEST_DB`` picks the database: ``sqlite`` (default) or ``postgres`` (127.0.0.1:5432, user
postgres, trust auth). Each pytest process gets its own test database name, so runs on a shared
machine never drop each other's database; worker processes started by end-to-end tests are pointed at
the same database through ``POLARIS_DB_NAME``.
"""

import os
from pathlib import Path

from polaris.sqlite import sqlite_database

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "polaris-tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "polaris.tests.urls"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "polaris",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"

_backend = os.environ.get("POLARIS_TEST_DB", "sqlite")
_test_name = os.environ.get("POLARIS_DB_NAME") or f"test_polaris_{os.getpid()}"
if _backend == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("POLARIS_DB_NAME", "postgres"),
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "TEST": {"NAME": _test_name},
        }
    }
elif _backend == "sqlite":
    _sqlite_dir = Path(os.environ.get("POLARIS_SQLITE_DIR", "/tmp"))
    DATABASES = {
        "default": sqlite_database(
            _sqlite_dir / f"{os.environ.get('POLARIS_DB_NAME', 'polaris')}.sqlite3",
            # A file, not :memory:, so worker processes in end-to-end tests share it.
            TEST={"NAME": str(_sqlite_dir / f"{_test_name}.sqlite3")},
        )
    }
else:
    raise RuntimeError(f"POLARIS_TEST_DB must be sqlite or postgres, not {_backend!r}")

POLARIS_HOST_URL = "http://testserver"
POLARIS_LOCAL_MODE = True
POLARIS_STELLAR_NETWORK_PASSPHRASE = "Standalone Network ; February 2017"
POLARIS_HORIZON_URI = "http://127.0.0.1:8000"
POLARIS_SIGNING_SEED = "SD7JC7M3K5C2RGEMTU72HR3UKV6RJFBHCC3SNBB65PVC27NKERQFVILK"
POLARIS_SERVER_JWT_KEY = "polaris-tests-jwt-key-of-at-least-32-bytes"
