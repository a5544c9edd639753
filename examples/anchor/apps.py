from django.apps import AppConfig


class AnchorConfig(AppConfig):
    """The demo anchor: registers the seed's AnchorRails and the SEP-6/12/24 integrations of ``transfers``
    once Django is ready, as django-polaris anchors do."""

    name = "examples.anchor"
    label = "anchor"
    default_auto_field = "django.db.models.BigAutoField"  # as its migrations say, whatever the project's default

    def ready(self):
        from polaris.integrations import register_integrations

        from .integrations import AnchorRails
        from .transfers import BankDeposit, BankWithdrawal, Customers

        register_integrations(rails=AnchorRails(), deposit=BankDeposit(), withdrawal=BankWithdrawal(), customer=Customers())
