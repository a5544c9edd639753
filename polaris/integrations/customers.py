"""SEP-12 KYC hooks, with django-polaris' method names and signatures.

Raise ``ValueError`` for a 400, ``django.core.exceptions.ObjectDoesNotExist`` for a 404 and
``NotImplementedError`` for a 501. The defaults raise ``NotImplementedError``: an anchor without KYC
storage must say so rather than answer with made-up customer states.
"""

from typing import Dict, List, Optional

from rest_framework.request import Request


class CustomerIntegration:
    """Register with ``register_integrations(customer=...)``."""

    def more_info_url(self, token, request: Request, account: str, *args: List, memo: Optional[int] = None, **kwargs: Dict) -> str:
        """A page where the customer can see their KYC status."""
        raise NotImplementedError

    def get(self, token, request: Request, params: Dict, *args: List, **kwargs: Dict) -> Dict:
        """``GET /customer``: the customer's status and the fields still needed."""
        raise NotImplementedError

    def put(self, token, request: Request, params: Dict, *args: List, **kwargs: Dict) -> str:
        """``PUT /customer``: store the fields and return the customer id."""
        raise NotImplementedError

    def delete(
        self, token, request: Request, account: str, memo: Optional[int], memo_type: Optional[str], *args: List, **kwargs: Dict
    ) -> None:
        """``DELETE /customer/:account``: forget the customer."""
        raise NotImplementedError

    def callback(self, token, request: Request, params: Dict, *args: List, **kwargs: Dict) -> None:
        """``PUT /customer/callback``: remember the URL to notify when the customer's status changes."""
        raise NotImplementedError

    def put_verification(self, token, request: Request, account: str, params: Dict, *args: List, **kwargs: Dict) -> Dict:
        """``PUT /customer/verification``: check codes sent to the customer; return the customer as ``get``."""
        raise NotImplementedError
