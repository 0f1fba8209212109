"""Template filters for Vietnamese numbers and dates; loaded as a builtin in every template."""

from django import template

from tiendo.core import formatting

register = template.Library()


@register.filter
def vn_number(value, decimals=None):
    if decimals in (None, ""):
        return formatting.format_number(value)
    return formatting.format_number(value, int(decimals))


@register.filter
def vn_percent(value, decimals=2):
    return formatting.format_percent(value, int(decimals))


@register.filter
def vn_date(value):
    return formatting.format_date(value)


@register.filter
def vn_date_long(value):
    return formatting.format_date_long(value)


@register.filter
def vn_datetime(value):
    return formatting.format_datetime(value)
