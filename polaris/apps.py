from decimal import getcontext

from django.apps import AppConfig


class PolarisConfig(AppConfig):
    name = "polaris"
    verbose_name = "Polaris"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Amounts are Decimal(30, 7): the default 28-digit context would round the largest of them.
        getcontext().prec = 30
        from polaris import checks, conf  # noqa: F401 (importing checks registers them)

        conf.connect_signals()
        # Connects the callback outbox to transitions' status_changed signal (owned by the payment engine).
        from polaris.engine import notifications  # noqa: F401
