"""The classes an anchor subclasses, and ``register_integrations()`` to plug its instances in.

Consumers read the registered instance when they need it (``registered_rails()``, ...), never at import
time, so registering works whenever it happens: in ``AppConfig.ready()``, in a test, or later.
"""

from polaris.integrations.custody import CustodyError, CustodyIntegration, SelfCustodyIntegration
from polaris.integrations.customers import CustomerIntegration
from polaris.integrations.rails import RailsIntegration
from polaris.integrations.transactions import DepositIntegration, WithdrawalIntegration

_BASES = {
    "rails": RailsIntegration,
    "custody": CustodyIntegration,
    "deposit": DepositIntegration,
    "withdrawal": WithdrawalIntegration,
    "customer": CustomerIntegration,
}


def _defaults() -> dict:
    return {
        "rails": RailsIntegration(),
        "custody": SelfCustodyIntegration(),
        "deposit": DepositIntegration(),
        "withdrawal": WithdrawalIntegration(),
        "customer": CustomerIntegration(),
    }


_registered = _defaults()


def register_integrations(
    *,
    rails: RailsIntegration | None = None,
    custody: CustodyIntegration | None = None,
    deposit: DepositIntegration | None = None,
    withdrawal: WithdrawalIntegration | None = None,
    customer: CustomerIntegration | None = None,
) -> None:
    """Replace the registered integrations that are passed; the others stay as they are.

    Each argument must be an instance of its base class (a subclass instance), not the class itself.
    """
    given = {"rails": rails, "custody": custody, "deposit": deposit, "withdrawal": withdrawal, "customer": customer}
    given = {name: value for name, value in given.items() if value is not None}
    for name, value in given.items():
        base = _BASES[name]
        if isinstance(value, type):
            raise TypeError(f"{name}: pass an instance, {value.__name__}(), not the class")
        if not isinstance(value, base):
            raise TypeError(f"{name} must be a {base.__name__} instance, got {type(value).__name__}")
    _registered.update(given)


def reset_integrations() -> None:
    """Back to the defaults (for tests)."""
    _registered.update(_defaults())


def registered_rails() -> RailsIntegration:
    return _registered["rails"]


def registered_custody() -> CustodyIntegration:
    return _registered["custody"]


def registered_deposit() -> DepositIntegration:
    return _registered["deposit"]


def registered_withdrawal() -> WithdrawalIntegration:
    return _registered["withdrawal"]


def registered_customer() -> CustomerIntegration:
    return _registered["customer"]


__all__ = [
    "CustodyError",
    "CustodyIntegration",
    "CustomerIntegration",
    "DepositIntegration",
    "RailsIntegration",
    "SelfCustodyIntegration",
    "WithdrawalIntegration",
    "register_integrations",
    "registered_custody",
    "registered_customer",
    "registered_deposit",
    "registered_rails",
    "registered_withdrawal",
    "reset_integrations",
]
