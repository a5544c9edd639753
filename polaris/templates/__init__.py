"""The interactive pages Polaris renders, as django-polaris names them for ``content_for_template``.

The HTML itself is in ``polaris/templates/polaris/``; an anchor overrides a page by providing a template of
the same name earlier in its template search path, or per request with ``template_name`` in the context.
"""

from enum import Enum


class Template(Enum):
    DEPOSIT = "polaris/deposit.html"
    WITHDRAW = "polaris/withdraw.html"
    MORE_INFO = "polaris/more_info.html"
