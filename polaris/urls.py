"""Mounts each SEP's URLs when it is in ACTIVE_SEPS, every SEP view wrapped for CORS.

Include this module at the site root (``path("", include("polaris.urls"))``): stellar.toml must be at
``/.well-known/stellar.toml`` and its URLs are built from ``SEP_PATHS`` below.

CORS: SEP-1 §1 wants ``Access-Control-Allow-Origin: *`` on every response, errors included, and
preflight answers on SEP-10/24. We wrap each mounted view (``allow_cors``) instead of using
django-cors-headers, because a middleware only works once the anchor adds it to MIDDLEWARE; wrapping
here makes every SEP endpoint correct with no settings at all, and leaves the anchor's other URLs alone.
"""

from functools import wraps
from importlib import import_module

from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from polaris.conf import settings

# The route prefix each SEP's URL module is mounted under; SEP-1 builds its URL keys (HOST_URL + prefix without
# the trailing slash) from this, so it is the one place to change. SEP-10's module has the single route "", so
# WEB_AUTH_ENDPOINT is exactly /auth (no slash, so no APPEND_SLASH redirect of the POST).
SEP_PATHS = {
    "sep-1": ".well-known/",
    "sep-10": "auth",
    "sep-6": "sep6/",
    "sep-12": "kyc/",
    "sep-24": "sep24/",
    "sep-31": "sep31/",
    "sep-38": "sep38/",
}

# The URL module of each SEP that has one; a SEP is mounted when it is here and in ACTIVE_SEPS.
SEP_URL_MODULES = {
    "sep-1": "polaris.sep1.urls",
    "sep-10": "polaris.sep10.urls",
    "sep-6": "polaris.sep6.urls",
    "sep-12": "polaris.sep12.urls",
    "sep-24": "polaris.sep24.urls",
}

PREFLIGHT_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
PREFLIGHT_DEFAULT_HEADERS = "Authorization, Content-Type"


def allow_cors(view):
    """Answer preflight ``OPTIONS`` requests, and add ``Access-Control-Allow-Origin: *`` to every response.

    Tokens travel in the Authorization header, never in cookies, so allowing every origin is safe.
    ``Access-Control-Allow-Headers: *`` would not cover Authorization, so the requested headers are echoed.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=200)
            response["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS
            response["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", PREFLIGHT_DEFAULT_HEADERS
            )
            response["Access-Control-Max-Age"] = "86400"
        else:
            response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def _with_cors(patterns: list) -> list:
    wrapped = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            wrapped.append(
                URLResolver(
                    pattern.pattern,
                    _with_cors(pattern.url_patterns),
                    pattern.default_kwargs,
                    pattern.app_name,
                    pattern.namespace,
                )
            )
        else:
            wrapped.append(URLPattern(pattern.pattern, allow_cors(pattern.callback), pattern.default_args, pattern.name))
    return wrapped


def sep_url(sep: str) -> str:
    """The absolute base URL of a SEP's endpoints, e.g. ``https://anchor.example/sep24``."""
    return f"{settings.HOST_URL}/{SEP_PATHS[sep].rstrip('/')}"


def sep_urlpatterns(active_seps: list[str]) -> list:
    """The URL patterns for the active SEPs that have a URL module."""
    patterns = []
    for sep, module_name in SEP_URL_MODULES.items():
        if sep in active_seps:
            module = import_module(module_name)
            patterns.append(path(SEP_PATHS[sep], include(_with_cors(module.urlpatterns))))
    return patterns


def _openapi(request):
    from polaris.shared.openapi import openapi_json  # it reads SEP_PATHS from this module

    return openapi_json(request)


urlpatterns = sep_urlpatterns(settings.ACTIVE_SEPS) + [path("openapi.json", _openapi, name="polaris-openapi")]
