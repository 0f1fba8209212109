"""Matching a refused workflow step on its stable code (and the values it names), not on
its wording."""

from __future__ import annotations

import pytest

from tiendo.reporting.services import ReportingError


def refused(code: str, **params: str):
    """``pytest.raises`` for a :class:`ReportingError` with ``code`` whose params contain
    each of ``params`` (``units="Xã Một"`` matches ``units="Xã Một, Xã Hai"``)."""

    def matches(error: ReportingError) -> bool:
        return error.code == code and all(
            value in str(error.params.get(name, "")) for name, value in params.items()
        )

    return pytest.raises(ReportingError, check=matches)
