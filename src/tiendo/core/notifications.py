"""The notifications inbox: what the workflow told a person, read or not, and where to go.

A notification belongs to its recipient alone, whatever their role: nobody else sees it,
and another person's notification answers 404 (not 403, which would tell that it exists).
Opening one is a POST — it marks the notification read — and then follows its link, but
only a relative link inside the site: a link stored with a scheme or a host (however it got
there) is never followed, so that the inbox cannot be turned into an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tiendo.core.models import Notification

PER_PAGE = 30
FILTERS = ("chua-doc", "da-doc")  # unread, read; anything else: every notification


def safe_link(link: str) -> str:
    """``link`` if it is a path inside this site (``/bao-cao/12/``), else ``""``.

    Refused: a scheme or a host (``https://…``, ``//host``), a backslash (browsers read
    ``/\\host`` as ``//host``), control characters, anything not starting with ``/``.
    """
    link = (link or "").strip()
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        return ""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in link):
        return ""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return ""
    return link


def unread_count(user) -> int:
    """How many notifications ``user`` has not read: one count query, once per request
    (kept on the request's user: the nav's badge and the home page ask both)."""
    if not user.is_authenticated or user.pk is None:  # a user not saved has no inbox
        return 0
    count = getattr(user, "_tiendo_unread_count", None)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        user._tiendo_unread_count = count
    return count


def _own_or_404(user, pk) -> Notification:
    try:
        return Notification.objects.get(pk=pk, recipient=user)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy thông báo.")) from None


@login_required
@require_GET
def inbox(request):
    """The user's notifications, the newest first, ``?loc=chua-doc`` or ``da-doc``."""
    shown = request.GET.get("loc", "")
    notes = Notification.objects.filter(recipient=request.user)
    if shown == "chua-doc":
        notes = notes.filter(read_at__isnull=True)
    elif shown == "da-doc":
        notes = notes.filter(read_at__isnull=False)
    else:
        shown = ""
    page = Paginator(notes.order_by("-created_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "shown": shown,
        "filters": [
            ("", _("Tất cả")),
            ("chua-doc", _("Chưa đọc")),
            ("da-doc", _("Đã đọc")),
        ],
        "unread": unread_count(request.user),
    }
    return render(request, "core/notifications.html", context)


@login_required
@require_POST
def open_notification(request, pk: int):
    """Mark the notification read and follow its link (the inbox when it has none safe)."""
    note = _own_or_404(request.user, pk)
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return redirect(safe_link(note.link) or reverse("core:notifications"))


@login_required
@require_POST
def read_all(request):
    """Mark every unread notification of the user read; back to the inbox."""
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("core:notifications")
