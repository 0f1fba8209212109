"""English words for messages the .po file does not hold yet (a branch's new messages get
there when its i18n-*.json is merged): put into Django's loaded English catalogue for the
test, taken out again afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import trans_real


@contextmanager
def english(entries: dict[str, str]) -> Iterator[None]:
    catalog = trans_real.translation("en")._catalog
    catalog = getattr(catalog, "_catalogs", [catalog])[0]
    saved = {k: catalog[k] for k in entries if k in catalog}
    catalog.update(entries)
    try:
        yield
    finally:
        for key in entries:
            catalog.pop(key, None)
        catalog.update(saved)
