"""Encryption at rest for secret seeds (``Asset.distribution_seed``).

django-polaris runs PBKDF2 (100,000 rounds) on every row load, about 14 ms per asset row. Here the key
is derived once per process and secret (HKDF-SHA256 from ``SEED_ENCRYPTION_KEY``, or Django's
``SECRET_KEY`` when that is unset; both must be high-entropy, as Django already requires of SECRET_KEY),
each value is sealed with AES-256-GCM under a random 96-bit nonce, and decryption happens only when
code reads the seed, never when a row is loaded.

Stored form: ``aesgcm1:`` + urlsafe base64(nonce || ciphertext || tag). The purpose string is bound as
associated data, so a ciphertext cannot be moved into another kind of column. To rotate the secret, put
the old value in Django's ``SECRET_KEY_FALLBACKS``: decryption tries it; re-assigning the seed
(``asset.distribution_seed = asset.distribution_seed; asset.save()``) re-encrypts it under the new key.
"""

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings as django_settings

PREFIX = "aesgcm1:"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The stored value cannot be decrypted with the current or fallback keys."""


@functools.lru_cache(maxsize=8)
def _cipher(secret: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"polaris seed encryption", info=b"aes-256-gcm v1"
    ).derive(secret.encode())
    return AESGCM(key)


def _secrets() -> list[str]:
    from polaris.conf import settings

    primary = settings.SEED_ENCRYPTION_KEY or django_settings.SECRET_KEY
    return [primary, *getattr(django_settings, "SECRET_KEY_FALLBACKS", [])]


def encrypt(plaintext: str, purpose: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(_secrets()[0]).encrypt(nonce, plaintext.encode(), purpose.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str, purpose: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("unknown encryption format")
    raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    for secret in _secrets():
        try:
            return _cipher(secret).decrypt(nonce, sealed, purpose.encode()).decode()
        except InvalidTag:
            continue
    raise DecryptionError(
        "cannot decrypt: SEED_ENCRYPTION_KEY / SECRET_KEY changed; add the old one to SECRET_KEY_FALLBACKS"
    )
