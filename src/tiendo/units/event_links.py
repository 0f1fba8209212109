"""Events for links written before events existed (by the data migration and the official
tree's load).

Kept apart from :mod:`tiendo.units.changes` and free of model imports: the migration calls
it with its historical models, the loader with today's.
"""

from __future__ import annotations

from collections import defaultdict

BATCH = 2000


def attach_events(change_model, event_model, act_model, *, source: str | None = None) -> int:
    """Group every link without an event into events; the number of events created.

    Links with the same effective date, legal basis and successor are one event (the
    communes merged into one new commune by one resolution); its kind is ``merge`` when it
    has several predecessors, else its link's kind. The legal basis text becomes a
    :class:`~tiendo.units.models.LegalAct` with that number and no issuer (the text does
    not say it). ``source`` is written on the events; None: the successor unit's source.
    Links, units and values are not changed, only given their event.
    """
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    rows = change_model.objects.filter(event__isnull=True).values_list(
        "pk",
        "kind",
        "effective_date",
        "legal_basis",
        "predecessor_id",
        "successor_id",
        "successor__source",
    )
    for pk, kind, effective, basis, pred, succ, succ_source in rows.order_by("pk").iterator():
        groups[(effective, basis, succ)].append((pk, kind, pred, succ_source))
    if not groups:
        return 0
    acts = _acts(act_model, {basis for _, basis, _ in groups if basis})
    keys = list(groups)
    events = event_model.objects.bulk_create(
        [_event(event_model, key, groups[key], acts, source) for key in keys], batch_size=BATCH
    )
    updates, members = [], []
    through = event_model.units.through
    for key, event in zip(keys, events, strict=True):
        members.append(through(unitevent_id=event.pk, unit_id=key[2]))
        for pk, _kind, pred, _src in groups[key]:
            updates.append(change_model(pk=pk, event_id=event.pk))
            members.append(through(unitevent_id=event.pk, unit_id=pred))
    change_model.objects.bulk_update(updates, ["event"], batch_size=BATCH)
    through.objects.bulk_create(members, batch_size=BATCH, ignore_conflicts=True)
    return len(events)


def _acts(act_model, numbers: set[str]) -> dict[str, object]:
    have = set(
        act_model.objects.filter(number__in=numbers, issuer="").values_list("number", flat=True)
    )
    act_model.objects.bulk_create(
        [act_model(number=n, issuer="") for n in sorted(numbers - have)], batch_size=BATCH
    )
    return {a.number: a for a in act_model.objects.filter(number__in=numbers, issuer="")}


def _event(event_model, key, links, acts, source):
    effective, basis, _succ = key
    kind = "merge" if len(links) > 1 else links[0][1]
    return event_model(
        kind=kind,
        effective_date=effective,
        act=acts.get(basis),
        source=source if source is not None else (links[0][3] or ""),
    )
