"""Registers test integrations in worker subprocesses, as their environment asks: ``FaultyAnchorRails``
when PAYOUT_FAULT is set, ``RecordingDeposit`` when AFTER_DEPOSIT_LOG names its log file."""

import os

from django.apps import AppConfig


class IntegrationsTestConfig(AppConfig):
    name = "polaris.engine.tests"
    label = "polaris_engine_tests"

    def ready(self):
        from polaris.integrations import register_integrations

        if os.environ.get("PAYOUT_FAULT"):
            from polaris.engine.tests.faulty_rails import FaultyAnchorRails

            register_integrations(rails=FaultyAnchorRails())
        if os.environ.get("AFTER_DEPOSIT_LOG"):
            from polaris.engine.tests.recording_deposit import RecordingDeposit

            register_integrations(deposit=RecordingDeposit(os.environ["AFTER_DEPOSIT_LOG"]))
