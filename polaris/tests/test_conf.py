import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from polaris.conf import settings


def test_django_setting_is_read_and_signing_key_derived():
    assert settings.HORIZON_URI == "http://127.0.0.1:8000"
    assert settings.SIGNING_KEY.startswith("G")


def test_environment_wins_over_django_settings(monkeypatch):
    monkeypatch.setenv("HORIZON_URI", "http://127.0.0.1:9999")
    settings.clear()
    try:
        assert settings.HORIZON_URI == "http://127.0.0.1:9999"
    finally:
        monkeypatch.delenv("HORIZON_URI")
        settings.clear()


def test_override_settings_drops_the_cache():
    assert settings.LOCAL_MODE is True
    with override_settings(POLARIS_LOCAL_MODE=False):
        with pytest.raises(ImproperlyConfigured, match="https"):
            settings.HOST_URL
    assert settings.HOST_URL == "http://testserver"


def test_unknown_sep_is_rejected():
    with override_settings(POLARIS_ACTIVE_SEPS=["sep-24", "sep-99"]):
        with pytest.raises(ImproperlyConfigured, match="sep-99"):
            settings.ACTIVE_SEPS


def test_home_domain_defaults_to_host():
    assert settings.SEP10_HOME_DOMAINS == ["testserver"]
