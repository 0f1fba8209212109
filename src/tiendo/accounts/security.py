"""Logins in the audit log, and the client address the login throttle counts by.

Logins, failed logins and logouts are recorded from Django's own signals, so every way in
(the login page, a test client, a future API) is logged the same way.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render

from tiendo.core.audit import audit


def client_ip(request) -> str:
    """The address a request came from, seen through ``PROXY_COUNT`` proxies of our own.

    With no proxy the socket's address; behind ``n`` proxies the ``n``-th address from the
    right of X-Forwarded-For (the ones further left are whatever the client chose to send).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out username or address gets instead of the login form (429)."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "core/lockout.html", context, status=429)


def _address(request) -> str:
    return client_ip(request) if request is not None else ""


@receiver(user_logged_in, dispatch_uid="tiendo.audit.login")
def audit_login(sender, request, user, **kwargs):
    audit("auth.login", actor=user, unit=user.unit, obj=user, ip=_address(request))


@receiver(user_login_failed, dispatch_uid="tiendo.audit.login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # the password never reaches the log; the username typed does, to see a guessing run
    audit(
        "auth.login_failed",
        username=str(credentials.get("username", ""))[:150],
        ip=_address(request),
    )


@receiver(user_logged_out, dispatch_uid="tiendo.audit.logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit("auth.logout", actor=user, unit=user.unit, obj=user, ip=_address(request))


@receiver(user_locked_out, dispatch_uid="tiendo.audit.locked_out")
def audit_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    audit("auth.locked_out", username=str(username or "")[:150], ip=ip_address or "")
