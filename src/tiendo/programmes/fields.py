"""``PeriodField``: a reporting period in a model, read and written as a :class:`Period`.

The column stays the ``varchar`` of the period's id (``"2022"``, ``"2020Q3"``), so queries,
indexes and raw SQL see what they always saw. On the Python side the attribute is a
:class:`Period` — from the database, and also when code assigns an id string — so a model's
``period.label`` or ``period.start`` needs no ``Period.parse``. A period is the string of
its id (see :class:`Period`), so comparisons with ids, dict keys and JSON keep working.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from tiendo.programmes.periods import Period, PeriodError


def as_period(value):
    """``value`` as a :class:`Period` when it names one; otherwise as it is (None, "", or
    a text that is not a period, left for validation to refuse)."""
    if value is None or isinstance(value, Period):
        return value
    try:
        return Period.parse(value)
    except PeriodError:
        return value


class PeriodAttribute(DeferredAttribute):
    """The model attribute: an id string assigned to it becomes its :class:`Period`."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = as_period(value)


class PeriodField(models.CharField):
    description = "A reporting period (tiendo.programmes.periods.Period), stored as its id"
    descriptor_class = PeriodAttribute

    def from_db_value(self, value, expression, connection):
        return as_period(value)

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, Period):
            return value
        try:
            return Period.parse(value)
        except PeriodError as exc:
            raise ValidationError(str(exc), code=exc.code) from exc

    def get_prep_value(self, value):
        """The id of a period, or the text of a lookup (``period__startswith="2022"``)."""
        value = models.Field.get_prep_value(self, value)
        return None if value is None else str(value)
