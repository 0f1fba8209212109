"""Helpers shared by the data app's tests."""

from tiendo.data.services import Entry, save_value


def save_beyond_limits(entry: Entry) -> None:
    """Store a figure outside its indicator's min/max, as one stored before the limits were
    set (every way of entering data refuses it now): saved with the limits lifted from the
    entry's indicator, which gets them back afterwards."""
    indicator = entry.indicator
    limits = indicator.min_value, indicator.max_value
    indicator.min_value = indicator.max_value = None
    try:
        save_value(entry)
    finally:
        indicator.min_value, indicator.max_value = limits
