"""``{{ value|in_display_unit:indicator }}``: a stored figure in the unit people read it in
(``display_unit``, tỷ đồng for a figure kept in triệu đồng), exactly, in Vietnamese format."""

from django import template

from tiendo.core.numbers import MAX_DECIMAL_PLACES

register = template.Library()


@register.filter
def in_display_unit(value, indicator):
    if value is None or value == "":
        return ""
    return indicator.display_text(value, decimals=MAX_DECIMAL_PLACES)
