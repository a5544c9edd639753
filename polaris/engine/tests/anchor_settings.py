"""Settings for worker subprocesses started by the engine tests: the test database plus the demo
anchor's app (which registers the seed's AnchorRails) and the test integrations the kill tests ask for.

The subprocess finds the test database through POLARIS_DB_NAME (see polaris/tests/settings.py).
"""

from polaris.tests.settings import *  # noqa: F401,F403
from polaris.tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "examples.anchor.apps.AnchorConfig", "polaris.engine.tests.integrations_app.IntegrationsTestConfig"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The level leads each line so a test can assert that a worker logged no error.
    "formatters": {"level": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "level"}},
    "loggers": {"polaris": {"handlers": ["console"], "level": "INFO"}},
}
