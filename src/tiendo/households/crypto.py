"""Encryption at rest of ID numbers, and a blind index to find duplicates without decrypting.

The keys come from the environment (``PERSONAL_DATA_KEYS``, Fernet keys; the first
encrypts, all decrypt — rotate by putting a new key first, then ``tiendo households
rekey``). With DEBUG on and no key set (the demo) one is derived from SECRET_KEY; in
production without a key the register refuses to store or read an ID number rather than
store it in clear.

The blind index is an HMAC-SHA256 of the normalised number under a key derived from the
first key: equal numbers give equal indexes, so "this ID number is already registered" is
one indexed query, while the table alone does not reveal a number (the 12 digits have little
entropy, so the index is keyed, never a plain hash).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KeyMissing(ImproperlyConfigured):
    pass


@cache
def _keys(configured: tuple[str, ...], debug: bool, secret: str) -> tuple[bytes, ...]:
    if configured:
        return tuple(k.strip().encode("ascii") for k in configured if k.strip())
    if debug:
        digest = hashlib.sha256(("tiendo-personal-data:" + secret).encode()).digest()
        return (base64.urlsafe_b64encode(digest),)
    raise KeyMissing(
        "PERSONAL_DATA_KEYS is not set: the household register cannot store or read ID "
        "numbers (README, Configuration)"
    )


def keys() -> tuple[bytes, ...]:
    return _keys(tuple(settings.PERSONAL_DATA_KEYS), settings.DEBUG, settings.SECRET_KEY)


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii") if plain else ""


def decrypt(token: str) -> str:
    """The plain text of ``token``; "" for an empty one. A token no configured key opens
    (a key removed too early) raises :class:`InvalidToken`."""
    return _fernet().decrypt(token.encode("ascii")).decode() if token else ""


def rotate(token: str) -> str:
    """``token`` encrypted again under the first key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii") if token else ""


def encrypt_bytes(data: bytes) -> bytes:
    """A whole file (an uploaded household list waiting for its import), encrypted."""
    return _fernet().encrypt(data) if data else b""


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(bytes(token)) if token else b""


@cache
def _index_key(first_key: bytes) -> bytes:
    return hmac.new(first_key, b"tiendo-blind-index", hashlib.sha256).digest()


def blind_index(plain: str) -> str:
    if not plain:
        return ""
    return hmac.new(_index_key(keys()[0]), plain.encode(), hashlib.sha256).hexdigest()


__all__ = [
    "InvalidToken",
    "KeyMissing",
    "blind_index",
    "decrypt",
    "decrypt_bytes",
    "encrypt",
    "encrypt_bytes",
    "keys",
    "rotate",
]
