"""What the API answers, as pydantic schemas (they make the OpenAPI description too)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class Error(Schema):
    code: str
    message: str


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    level: int
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None


class UnitPage(Schema):
    items: list[UnitOut]
    next_cursor: str | None


class LinkOut(Schema):
    """One reorganisation link seen from a unit: the unit at its far end."""

    kind: str
    effective_date: date
    legal_basis: str
    partial: bool
    share: str | None
    unit: UnitOut
    # the far unit is in the caller's scope (a page links it; otherwise only its name shows)
    readable: bool


class UnitDetail(UnitOut):
    predecessors: list[LinkOut]
    successors: list[LinkOut]


class ProgrammeOut(Schema):
    code: str
    name: str
    short_name: str
    issuer: str
    owner_code: str | None
    period: str
    version: str


class CategoryOut(Schema):
    code: str
    name: str


class IndicatorOut(Schema):
    code: str
    name: str
    short_name: str
    component: str | None
    measure_unit: str
    value_type: str
    aggregation: str
    decimals: int
    formula: str
    disaggregation: str | None
    categories: list[CategoryOut]
    retired: bool


class DataValueOut(Schema):
    indicator: str
    unit: str
    unit_id: int
    period: str
    category: str
    # exact decimal as text: a float would round the 20 digits a figure may have
    value: str
    qualifier: str
    updated_at: datetime


class DataValuePage(Schema):
    items: list[DataValueOut]
    next_cursor: str | None
