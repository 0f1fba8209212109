"""Cursor pagination: a page ends with an opaque cursor, the base64 of the last row's
ordering key, and the next page starts strictly after that key.

Unlike an offset, a cursor does not skip or repeat rows when rows are added before it
while a client walks the pages, and it costs one indexed range scan whatever the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from tiendo.api.errors import ApiError

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_CURSOR = 200


def encode(key: list) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def refused() -> ApiError:
    return ApiError(400, "cursor.invalid", _("Con trỏ phân trang (cursor) không hợp lệ."))


def decode(cursor: str, shape: tuple[type, ...]) -> list:
    """The key of ``cursor``, each part of the type ``shape`` gives; 400 otherwise."""
    try:
        if len(cursor) > MAX_CURSOR or not cursor.isascii():
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, list) or len(key) != len(shape):
            raise ValueError
        if not all(type(part) is kind for part, kind in zip(key, shape, strict=True)):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused() from None
    return key


def moment(text: str) -> datetime:
    """A timestamp part of a cursor (an aware ISO datetime)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise refused() from None
    if value.tzinfo is None:
        raise refused()
    return value


def page(rows: list, limit: int, key) -> tuple[list, str | None]:
    """The first ``limit`` of ``rows`` (fetched with one more, to know if a page follows)
    and the cursor of the next page, or ``None`` at the end."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(key(rows[-1]))
