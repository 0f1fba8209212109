"""The nav's count of unread notifications: one count query, on pages that show the nav."""

from django import template

from tiendo.core.notifications import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    return unread_count(user)
