"""Writing the audit log and notifying people: the last two steps of every workflow service."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from tiendo.core.actions import render_message
from tiendo.core.models import AuditEntry, Notification

log = logging.getLogger(__name__)


def audit(action: str, *, actor=None, unit=None, obj=None, message: str = "", **data) -> AuditEntry:
    """Record ``action`` (a dotted code of :data:`tiendo.core.actions.ACTIONS`, such as
    ``submission.approved``) with its parameters ``data``.

    A page words the entry when it shows it (:func:`tiendo.core.actions.describe`, in the
    reader's language); the entry also keeps that sentence in the site's language, or
    ``message`` when given, for readers of the table itself.
    """
    data = {k: _jsonable(v) for k, v in data.items()}
    if not message:
        with translation.override(settings.LANGUAGE_CODE):
            message = render_message(action, data) or ""
    return AuditEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        unit=unit,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        message=message,
        data=data,
    )


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def notify(
    recipients, message, *, link: str = "", subject="", params: dict | None = None
) -> list[Notification]:
    """In-app notification for each recipient; an email too when SMTP is configured.

    ``message`` (and ``subject``) are translatable texts (``gettext_lazy``) with
    ``%(name)s`` placeholders filled from ``params``; they are worded once, in the site's
    language (the recipients'), not in the language of whoever did the step.

    Call it inside the step's transaction: the notifications are rows of that transaction
    (a step that rolls back leaves none), and the mails go out only once it has committed,
    one message per recipient so that no one sees the others' addresses.
    """
    with translation.override(settings.LANGUAGE_CODE):
        message = _worded(message, params)
        subject = _worded(subject, params)
    recipients = list(dict.fromkeys(r for r in recipients if r is not None))
    notes = Notification.objects.bulk_create(
        [Notification(recipient=r, message=message, link=link) for r in recipients]
    )
    if settings.SMTP_HOST:
        addresses = [r.email for r in recipients if r.email]
        if addresses:
            subject = subject or message[:80]
            body = f"{message}\n{link}" if link else message
            transaction.on_commit(lambda: _send_mails(subject, body, addresses))
    return notes


def _worded(text, params: dict | None) -> str:
    text = str(text)
    return text % params if params is not None and text else text


def _send_mails(subject: str, body: str, addresses: list[str]) -> None:
    for address in dict.fromkeys(addresses):
        try:
            send_mail(subject, body, None, [address])
        except OSError:  # the in-app notification is the record; mail is best effort
            log.warning("could not send mail to %s", address, exc_info=True)
