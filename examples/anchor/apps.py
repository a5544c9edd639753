from django.apps import AppConfig


class AnchorConfig(AppConfig):
    """The demo anchor: registers the seed's AnchorRails once Django is ready, as django-polaris anchors do."""

    name = "examples.anchor"
    label = "anchor"

    def ready(self):
        from polaris.integrations import register_integrations

        from .integrations import AnchorRails

        register_integrations(rails=AnchorRails())
