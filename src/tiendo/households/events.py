"""What else must follow when register records change: the register indicators' figures.

Every write to the register — a page's save, an import, the demo's loader, a removal —
ends, inside its transaction, with :func:`changed` and the units whose households (or
plots, by the land's commune) changed. Hooks registered by other modules of the app
(:mod:`tiendo.households.figures` recomputes the register indicators of those units) run
there, so a figure is fresh on every save and never waits for a nightly job; a hook that
raises rolls the whole save back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Hook = Callable[..., None]
_HOOKS: list[Hook] = []


def register_changed(hook: Hook) -> None:
    """``hook(unit_ids: set[int], *, user, source)`` runs after every register write."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def changed(unit_ids: Iterable[int], *, user=None, source: str = "form") -> None:
    ids = {int(pk) for pk in unit_ids if pk is not None}
    if not ids:
        return
    for hook in list(_HOOKS):
        hook(ids, user=user, source=source)
