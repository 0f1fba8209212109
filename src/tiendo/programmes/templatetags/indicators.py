"""``{{ value|in_display_unit:indicator }}``: a stored figure in the unit people read it in
(``display_unit``, tỷ đồng for a figure kept in triệu đồng), exactly, in Vietnamese format."""

from django import template

register = template.Library()


@register.filter
def in_display_unit(value, indicator):
    return indicator.exact_text(None if value == "" else value)
