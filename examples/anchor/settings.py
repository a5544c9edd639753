"""Settings for the demo anchor.

Database: SQLite in ``examples/anchor/var/`` unless ``DATABASE_URL=postgres://user:pass@host:port/name``.
Polaris' own settings (HOST_URL, HORIZON_URI, STELLAR_NETWORK_PASSPHRASE, SIGNING_SEED, SERVER_JWT_KEY,
ACTIVE_SEPS, LOCAL_MODE, ...) are read by ``polaris.conf`` from the environment; the defaults below suit a
local demo against localnet and are overridden by the environment.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from polaris.sqlite import sqlite_database

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ANCHOR_VAR_DIR", BASE_DIR / "var"))

DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
# The demo's fixed key is only accepted in LOCAL_MODE; it also keys the distribution seeds' encryption.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "examples.anchor.urls"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "polaris",
    "examples.anchor.apps.AnchorConfig",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
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


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from ``postgres://user:password@host:port/name`` (no extra dependency)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be postgres://..., got scheme {parsed.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": sqlite_database(VAR_DIR / "anchor.sqlite3")}

# Local demo defaults for Polaris (the environment wins; see polaris/conf.py).
POLARIS_LOCAL_MODE = True
POLARIS_HOST_URL = "http://127.0.0.1:8001"
POLARIS_HORIZON_URI = "http://127.0.0.1:8000"
POLARIS_STELLAR_NETWORK_PASSPHRASE = "Standalone Network ; February 2017"
POLARIS_ACTIVE_SEPS = ["sep-1", "sep-10", "sep-6", "sep-12", "sep-24"]

if not SECRET_KEY:
    local_mode = os.environ.get("LOCAL_MODE", "true").strip().lower() in ("1", "true", "yes", "on")
    if not local_mode:
        raise ImproperlyConfigured("set DJANGO_SECRET_KEY (it also encrypts the distribution seeds)")
    SECRET_KEY = "demo-anchor-local-mode-only-" + "0123456789abcdef" * 3

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"polaris": {"handlers": ["console"], "level": os.environ.get("POLARIS_LOG_LEVEL", "INFO")}},
}
