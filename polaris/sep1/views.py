"""``GET /.well-known/stellar.toml``."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from polaris.sep1.toml import render


@require_GET
def stellar_toml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(render(), content_type="text/plain; charset=utf-8")
