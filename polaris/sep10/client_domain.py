"""Client attribution: which ``client_domain`` values we accept, and reading their SIGNING_KEY safely.

The wallet names the domain, so fetching its stellar.toml is fetching a URL chosen by a stranger:
https only (http only in LOCAL_MODE), no redirects, a timeout, a size cap, and, outside LOCAL_MODE, only
hosts that resolve to public addresses, so a challenge request cannot probe our private network.
"""

import ipaddress
import re
import socket
import tomllib

import requests
from stellar_sdk import StrKey

from polaris.conf import settings

MAX_TOML_BYTES = 100 * 1024  # SEP-1: stellar.toml is under 100 KB
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_PATTERN = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::\d{{1,5}})?$", re.IGNORECASE)


class ClientDomainError(Exception):
    """The client domain's stellar.toml could not give us a SIGNING_KEY; the message says why."""


def is_valid_domain(domain: str) -> bool:
    """A host name with an optional port: no scheme, path, credentials or spaces."""
    return len(domain) <= 253 and bool(DOMAIN_PATTERN.match(domain))


def is_allowed(domain: str) -> bool:
    """Checks SEP10_CLIENT_ATTRIBUTION_DENYLIST, then SEP10_CLIENT_ATTRIBUTION_ALLOWLIST when it is set."""
    if domain in (settings.SEP10_CLIENT_ATTRIBUTION_DENYLIST or []):
        return False
    allowlist = settings.SEP10_CLIENT_ATTRIBUTION_ALLOWLIST
    return not allowlist or domain in allowlist


def _check_public_host(host: str) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise ClientDomainError(f"{host} does not resolve") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise ClientDomainError(f"{host} resolves to a non-public address")


def fetch_signing_key(domain: str) -> str:
    """The ``SIGNING_KEY`` of ``<domain>/.well-known/stellar.toml``; raises ``ClientDomainError``."""
    if not is_valid_domain(domain):
        raise ClientDomainError("client_domain must be a host name, optionally with a port")
    if settings.LOCAL_MODE:
        scheme = "http"
    else:
        scheme = "https"
        _check_public_host(domain.rsplit(":", 1)[0] if ":" in domain else domain)
    url = f"{scheme}://{domain}/.well-known/stellar.toml"
    try:
        with requests.get(
            url, timeout=settings.SEP10_CLIENT_ATTRIBUTION_REQUEST_TIMEOUT, stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                raise ClientDomainError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(chunk_size=8192):
                body += chunk
                if len(body) > MAX_TOML_BYTES:
                    raise ClientDomainError(f"{url} is larger than {MAX_TOML_BYTES} bytes")
    except requests.RequestException as error:
        raise ClientDomainError(f"could not fetch {url}: {type(error).__name__}") from None
    try:
        toml = tomllib.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise ClientDomainError(f"{url} is not valid TOML") from None
    signing_key = toml.get("SIGNING_KEY")
    if not isinstance(signing_key, str) or not StrKey.is_valid_ed25519_public_key(signing_key):
        raise ClientDomainError(f"{url} has no valid SIGNING_KEY")
    return signing_key
