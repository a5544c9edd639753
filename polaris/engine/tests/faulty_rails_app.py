"""Registers ``FaultyAnchorRails`` in worker subprocesses whose environment sets PAYOUT_FAULT."""

import os

from django.apps import AppConfig


class FaultyRailsConfig(AppConfig):
    name = "polaris.engine.tests"
    label = "polaris_engine_tests"

    def ready(self):
        if os.environ.get("PAYOUT_FAULT"):
            from polaris.engine.tests.faulty_rails import FaultyAnchorRails
            from polaris.integrations import register_integrations

            register_integrations(rails=FaultyAnchorRails())
