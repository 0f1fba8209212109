"""Every write to the cooperative and OCOP register: pages and the demo call these.

One shape for each: check the writer's scope → lock the record and check the version the
form was read at (a stale form never overwrites a newer save) → validate the whole record
→ save → keep a :class:`~tiendo.cooperatives.models.Change` per field changed → tell
:func:`tiendo.households.events.changed` which units' register figures must be computed
again. All inside one transaction: a hook that raises, or a record that does not validate,
leaves nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.cooperatives.models import (
    Change,
    Cooperative,
    OcopProduct,
    Support,
)
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number
from tiendo.households import events
from tiendo.households.models import Household

COOPERATIVE_FIELDS = (
    "kind",
    "name",
    "tax_code",
    "unit",
    "founded_on",
    "members",
    "sector",
    "value_chain",
    "status",
    "no_collateral",
    "no_office",
    "not_compliant",
    "other_obstacle",
    "obstacle_note",
    "note",
    "illustrative",
)
PRODUCT_FIELDS = (
    "name",
    "unit",
    "cooperative",
    "enterprise",
    "household",
    "group",
    "stars",
    "score",
    "programme",
    "decision_number",
    "decision_date",
    "issuer",
    "note",
    "illustrative",
)
SUPPORT_FIELDS = ("given_on", "giver", "kind", "amount", "decision", "purpose")
SHOWN_LIMIT = 300  # Change.old / Change.new


class RegisterError(TiendoError):
    code = "register"
    default_message = _("Không lưu được.")


class StaleVersion(RegisterError):
    code = "stale"
    default_message = _(
        "Bản ghi đã được người khác sửa sau khi bạn mở trang (phiên bản %(current)s, trang của "
        "bạn là phiên bản %(expected)s). Hãy mở lại trang để xem bản mới nhất rồi sửa lại."
    )


class InvalidRecord(RegisterError):
    """The record does not validate; ``errors`` maps field names to messages."""

    code = "invalid"

    def __init__(self, error: ValidationError):
        self.errors = error.message_dict if hasattr(error, "error_dict") else {}
        messages = [m for ms in self.errors.values() for m in ms] or list(error.messages)
        super().__init__("; ".join(messages))

    def __str__(self) -> str:
        return str(self.message)


def _shown(value) -> str:
    """A value as the history shows it: dates and numbers in the Vietnamese way."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal | int):
        return format_number(value)
    return str(value)[:SHOWN_LIMIT]


def _value(record, name: str):
    field = record._meta.get_field(name)
    if field.is_relation:
        related = getattr(record, name)
        return None if related is None else related.pk
    return getattr(record, name)


def _display(record, name: str) -> str:
    field = record._meta.get_field(name)
    if field.is_relation:
        related = getattr(record, name)
        if related is None:
            return ""
        # a household's head is personal data: the history names the household by its code
        return related.code if isinstance(related, Household) else str(related)
    if field.choices:
        return str(getattr(record, f"get_{name}_display")())
    return _shown(getattr(record, name))


def _check_writer(user, *units) -> None:
    """The demo's loader writes without a user; everyone else within their scope."""
    if user is None:
        return
    for unit in units:
        if unit is not None:
            scope.check_unit(user, unit, write=True)


def _validate(record, *, exclude: Iterable[str] = ()) -> None:
    try:
        record.full_clean(exclude=list(exclude))
    except ValidationError as err:
        raise InvalidRecord(err) from None


def _check_version(record, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise StaleVersion(current=record.version, expected=expected_version)


def _log(record_name, record, changes, *, user, source, cooperative=None, product=None):
    Change.objects.bulk_create(
        Change(
            cooperative=cooperative,
            product=product,
            record=record_name,
            record_id=record.pk,
            field=field,
            old=old[:SHOWN_LIMIT],
            new=new[:SHOWN_LIMIT],
            version=getattr(record, "version", 1),
            source=source,
            changed_by=user,
        )
        for field, old, new in changes
    )


def _apply(record, fields: tuple[str, ...], data: dict) -> list[tuple[str, str, str]]:
    """Set ``data`` on ``record``; the (field, old, new) of what changed."""
    changes = []
    for name in fields:
        if name not in data:
            continue
        before_value, before_shown = _value(record, name), _display(record, name)
        setattr(record, name, data[name])
        if _value(record, name) != before_value:
            changes.append((name, before_shown, _display(record, name)))
    return changes


# --- Cooperatives ------------------------------------------------------------------------


def create_cooperative(user, data: dict, *, source: str = "form") -> Cooperative:
    unknown = set(data) - set(COOPERATIVE_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    record = Cooperative(**data, updated_by=user)
    _check_writer(user, record.unit)
    _validate(record)
    with transaction.atomic():
        record.save()
        _log(
            "cooperative",
            record,
            [("*", "", record.name)],
            user=user,
            source=source,
            cooperative=record,
        )
        events.changed({record.unit_id}, user=user, source=source)
    return record


def update_cooperative(
    user, pk: int, data: dict, *, expected_version: int | None, source: str = "form"
) -> list[tuple[str, str, str]]:
    """Change cooperative ``pk``; the (field, old, new) of what changed (nothing saved, no
    version spent, when nothing did)."""
    with transaction.atomic():
        record = Cooperative.objects.select_for_update().select_related("unit").get(pk=pk)
        old_unit = record.unit
        _check_writer(user, old_unit)
        _check_version(record, expected_version)
        changes = _apply(record, COOPERATIVE_FIELDS, data)
        if not changes:
            return []
        _check_writer(user, record.unit)
        _validate(record)
        record.version += 1
        record.updated_by = user
        record.save()
        _log("cooperative", record, changes, user=user, source=source, cooperative=record)
        events.changed({old_unit.pk, record.unit_id}, user=user, source=source)
    return changes


def add_support(user, cooperative: Cooperative, data: dict, *, source: str = "form") -> Support:
    support = Support(cooperative=cooperative, created_by=user, **data)
    _check_writer(user, cooperative.unit)
    _validate(support, exclude=["cooperative"])
    with transaction.atomic():
        support.save()
        summary = f"{support.giver}: {_shown(support.amount)} triệu đồng"
        _log(
            "support",
            support,
            [("*", "", summary)],
            user=user,
            source=source,
            cooperative=cooperative,
        )
        events.changed({cooperative.unit_id}, user=user, source=source)
    return support


def remove_support(user, support: Support, *, source: str = "form") -> None:
    cooperative = support.cooperative
    _check_writer(user, cooperative.unit)
    with transaction.atomic():
        summary = f"{support.giver}: {_shown(support.amount)} triệu đồng"
        _log(
            "support",
            support,
            [("*", summary, "")],
            user=user,
            source=source,
            cooperative=cooperative,
        )
        support.delete()
        events.changed({cooperative.unit_id}, user=user, source=source)


# --- OCOP products -------------------------------------------------------------------------


def create_product(user, data: dict, *, source: str = "form") -> OcopProduct:
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    record = OcopProduct(**data, updated_by=user)
    _check_writer(user, record.unit)
    record.fill_computed()
    _validate(record)
    with transaction.atomic():
        record.save()
        _log("product", record, [("*", "", record.name)], user=user, source=source, product=record)
        events.changed({record.unit_id}, user=user, source=source)
    return record


def update_product(
    user, pk: int, data: dict, *, expected_version: int | None, source: str = "form"
) -> list[tuple[str, str, str]]:
    with transaction.atomic():
        record = OcopProduct.objects.select_for_update().select_related("unit").get(pk=pk)
        old_unit = record.unit
        _check_writer(user, old_unit)
        _check_version(record, expected_version)
        changes = _apply(record, PRODUCT_FIELDS, data)
        if not changes:
            return []
        _check_writer(user, record.unit)
        record.fill_computed()
        _validate(record)
        record.version += 1
        record.updated_by = user
        record.save()
        _log("product", record, changes, user=user, source=source, product=record)
        events.changed({old_unit.pk, record.unit_id}, user=user, source=source)
    return changes
