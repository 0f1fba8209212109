"""Creating, checking and revoking personal access tokens (:class:`~tiendo.api.models.Token`).

A token is ``tdo_`` followed by 32 random bytes in URL-safe base64 (43 characters): the
prefix lets secret scanners and people recognise it. Looking a token up is one indexed
query on the digest; the digest comparison itself is the database's equality on a value
the caller cannot choose the preimage of, so it leaks nothing useful through timing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiendo.api.models import Token
from tiendo.core.errors import TiendoError

PREFIX = "tdo_"
# last_used_at is written at most once a minute per token: not a write per API call
LAST_USED_STEP = timedelta(minutes=1)
MAX_NAME = 100


class TokenRefused(TiendoError):
    """A token that does not open the API; ``status`` is the HTTP answer (401)."""

    code = "token.invalid"
    default_message = _("Mã truy cập không hợp lệ.")
    status = 401


@dataclass
class IssuedToken:
    token: Token
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(user, name: str, *, read_only: bool = True, expires_at=None) -> IssuedToken:
    """A new token for ``user``; the returned secret is the only copy of it."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = Token.objects.create(
        user=user,
        name=name.strip()[:MAX_NAME],
        digest=digest(secret),
        hint=secret[: len(PREFIX) + 6],
        read_only=read_only,
        expires_at=expires_at,
    )
    return IssuedToken(token, secret)


def authenticate(secret: str, *, now=None) -> Token:
    """The live token ``secret`` names, its user loaded; :class:`TokenRefused` otherwise."""
    now = now or timezone.now()
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenRefused()
    token = Token.objects.select_related("user__unit").filter(digest=digest(secret)).first()
    if token is None or not token.user.is_active:
        raise TokenRefused()
    if token.revoked_at is not None:
        raise TokenRefused(_("Mã truy cập này đã bị thu hồi."), code="token.revoked")
    if token.is_expired(now):
        raise TokenRefused(_("Mã truy cập này đã hết hạn."), code="token.expired")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        Token.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke(user, pk) -> bool:
    """Revoke ``user``'s token ``pk``; False when the user has no such live token."""
    with transaction.atomic():
        return bool(
            Token.objects.filter(user=user, pk=pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        )
