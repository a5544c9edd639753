"""Polaris settings, under the names django-polaris uses.

Each setting is read from the environment variable ``NAME`` first, then from the Django setting
``POLARIS_NAME``, then from its default. Values are cached and the cache is dropped whenever Django's
``setting_changed`` signal fires, so ``override_settings`` works in tests.

    from polaris.conf import settings
    settings.HORIZON_URI
"""

import os
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SEPS = ("sep-1", "sep-6", "sep-10", "sep-12", "sep-24", "sep-31", "sep-38")

TESTNET_PASSPHRASE = "Test SDF Network ; September 2015"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class Setting:
    parse: Callable[[str], Any] = str
    default: Any = None
    required: bool = False


DEFINITIONS: dict[str, Setting] = {
    "ACTIVE_SEPS": Setting(_list, default=list(SEPS)),
    "HOST_URL": Setting(str, required=True),
    "LOCAL_MODE": Setting(_bool, default=False),
    "HORIZON_URI": Setting(str, default="https://horizon-testnet.stellar.org"),
    "STELLAR_NETWORK_PASSPHRASE": Setting(str, default=TESTNET_PASSPHRASE),
    "SIGNING_SEED": Setting(str),
    "SERVER_JWT_KEY": Setting(str),
    "SEP10_HOME_DOMAINS": Setting(_list),
    "SEP10_CLIENT_ATTRIBUTION_REQUIRED": Setting(_bool, default=False),
    "SEP10_CLIENT_ATTRIBUTION_REQUEST_TIMEOUT": Setting(int, default=3),
    "SEP10_CLIENT_ATTRIBUTION_ALLOWLIST": Setting(_list),
    "SEP10_CLIENT_ATTRIBUTION_DENYLIST": Setting(_list),
    "SEP6_USE_MORE_INFO_URL": Setting(_bool, default=False),
    "MAX_TRANSACTION_FEE_STROOPS": Setting(int),
    "CALLBACK_REQUEST_TIMEOUT": Setting(int, default=3),
    "CALLBACK_REQUEST_DOMAIN_DENYLIST": Setting(_list, default=[]),
    "ADDITIVE_FEES_ENABLED": Setting(_bool, default=False),
    "INTERACTIVE_JWT_EXPIRATION": Setting(int, default=30),
    # Secret for encrypting distribution seeds at rest; Django's SECRET_KEY when unset.
    "SEED_ENCRYPTION_KEY": Setting(str),
}


class PolarisSettings:
    def __init__(self):
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._cache[name]
        except KeyError:
            pass
        derive = getattr(self, f"_derive_{name}", None)
        value = derive() if derive is not None else self._raw(name)
        self._cache[name] = value
        return value

    def clear(self) -> None:
        self._cache.clear()

    def _raw(self, name: str) -> Any:
        try:
            definition = DEFINITIONS[name]
        except KeyError:
            raise AttributeError(f"Polaris has no setting {name!r}") from None
        if name in os.environ:
            try:
                return definition.parse(os.environ[name])
            except ValueError as error:
                raise ImproperlyConfigured(f"environment variable {name}: {error}") from None
        django_name = f"POLARIS_{name}"
        if hasattr(django_settings, django_name):
            return getattr(django_settings, django_name)
        if definition.required:
            raise ImproperlyConfigured(f"set {name} in the environment or {django_name} in Django settings")
        return definition.default

    # Settings that are checked or computed from others.

    def _derive_ACTIVE_SEPS(self) -> list[str]:
        seps = [sep.lower() for sep in self._raw("ACTIVE_SEPS")]
        unknown = sorted(set(seps) - set(SEPS))
        if unknown:
            raise ImproperlyConfigured(f"ACTIVE_SEPS: unknown SEPs {unknown}; known: {list(SEPS)}")
        return seps

    def _derive_HOST_URL(self) -> str:
        url = self._raw("HOST_URL").rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ImproperlyConfigured(f"HOST_URL must be an absolute http(s) URL, got {url!r}")
        if parsed.scheme == "http" and not self.LOCAL_MODE:
            raise ImproperlyConfigured("HOST_URL must use https unless LOCAL_MODE is on")
        return url

    def _derive_SIGNING_KEY(self) -> str | None:
        from stellar_sdk import Keypair

        seed = self.SIGNING_SEED
        return Keypair.from_secret(seed).public_key if seed else None

    def _derive_SEP10_HOME_DOMAINS(self) -> list[str]:
        return self._raw("SEP10_HOME_DOMAINS") or [urlparse(self.HOST_URL).netloc]


settings = PolarisSettings()


def connect_signals() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(lambda **kwargs: settings.clear(), weak=False)
