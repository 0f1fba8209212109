"""The administrative tree with its history.

A unit is one node of the tree *as it was in a span of time*: the Hà Giang province that
existed until 30/06/2025 and the Tuyên Quang province formed on 01/07/2025 are different
units, linked by :class:`UnitChange` records. Old data therefore keeps rolling up through
the tree that was valid when it was entered, and can be re-expressed in today's units by
following the changes.

Events (:class:`UnitEvent`, with its :class:`LegalAct`) are what happens to the tree on a
date: a merge, a split, a rename, a new code, a move to another parent, a change of kind
(xã → phường), an establishment or a dissolution. Every event *ends* unit versions (their
``valid_to`` becomes the day before the effective date) and *starts* new ones
(``valid_from`` = the effective date), linked predecessor → successor by
:class:`UnitChange` rows with a share. A rename, recode, move or reclassification is a new
version too, linked with share 1: a version never changes its name, code, kind or parent
during its life.

Children follow their parent: when a unit gets a new version, each of its children still
valid on the effective date gets a new version under the new parent version (a link of kind
``move``, share 1, in the same event; recursively). So every version has one parent for its
whole life and lies within its parent's validity, the materialised path and the
:class:`UnitAncestor` closure never change with time, and the tree valid on any date —
``Unit.objects.valid_on(day)`` with its closure — rolls figures up exactly as the tree was
that day. (The alternative, keeping the children and resolving their parent by date, would
make the closure depend on the date of every rollup.) :mod:`tiendo.units.changes` writes
events; ``docs/unit-changes.md`` describes the change files a province loads.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    NATION = "nation", _("Cả nước")
    PROVINCE = "province", _("Tỉnh")
    CENTRAL_CITY = "central_city", _("Thành phố trực thuộc trung ương")
    RURAL_DISTRICT = "rural_district", _("Huyện")
    URBAN_DISTRICT = "urban_district", _("Quận")
    DISTRICT_TOWN = "district_town", _("Thị xã")
    PROVINCIAL_CITY = "provincial_city", _("Thành phố thuộc tỉnh")
    COMMUNE = "commune", _("Xã")
    WARD = "ward", _("Phường")
    TOWNSHIP = "township", _("Thị trấn")
    SPECIAL_ZONE = "special_zone", _("Đặc khu")
    AGENCY = "agency", _("Cơ quan, tổ chức")


class Level(models.IntegerChoices):
    NATION = 0, _("Trung ương")
    PROVINCE = 1, _("Cấp tỉnh")
    DISTRICT = 2, _("Cấp huyện")
    COMMUNE = 3, _("Cấp xã")


REFORM_DATE = date(2025, 7, 1)
PRE_REFORM_END = date(2025, 6, 30)


class UnitQuerySet(models.QuerySet):
    def valid_on(self, day: date) -> UnitQuerySet:
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )

    def valid_during(self, period) -> UnitQuerySet:
        """Units that existed on at least one day of ``period`` (anything with ``start`` and
        ``end`` dates: a :class:`~tiendo.programmes.periods.Period`)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=period.end),
            Q(valid_to__isnull=True) | Q(valid_to__gte=period.start),
        )

    def current(self) -> UnitQuerySet:
        return self.valid_on(date.today())

    def subtree(self, unit: Unit, *, include_self: bool = True) -> UnitQuerySet:
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)

    def administrative(self) -> UnitQuerySet:
        return self.exclude(kind=UnitKind.AGENCY)

    def agencies(self) -> UnitQuerySet:
        return self.filter(kind=UnitKind.AGENCY)


class Unit(models.Model):
    code = models.CharField(_("mã"), max_length=32, db_index=True)
    name = models.CharField(_("tên"), max_length=200)
    kind = models.CharField(_("loại"), max_length=20, choices=UnitKind.choices)
    level = models.PositiveSmallIntegerField(_("cấp"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("trực thuộc"),
    )
    # Materialised path of primary keys, "/1/57/902/": a whole subtree is one indexed
    # prefix query, and the depth is the number of segments.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    source = models.CharField(
        _("nguồn"), max_length=40, blank=True, help_text=_("vietnam-provinces, metadata, thủ công")
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("đơn vị")
        verbose_name_plural = _("đơn vị")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "kind", "code", "valid_from"], name="unit_code_per_validity"
            ),
            models.UniqueConstraint(
                fields=["level", "kind", "code"],
                condition=Q(valid_from__isnull=True),
                name="unit_code_open_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = self.build_path()
        if path != self.path:
            old = self.path
            self.path = path
            Unit.objects.filter(pk=self.pk).update(path=path)
            if old:
                rebase_subtree(old, path)
            UnitAncestor.rebuild_for(
                [self.pk, *Unit.objects.filter(path__startswith=path).values_list("pk", flat=True)]
            )

    @property
    def is_agency(self) -> bool:
        return self.kind == UnitKind.AGENCY

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def is_valid_during(self, period) -> bool:
        """This unit existed on at least one day of ``period``: the rule of
        :meth:`UnitQuerySet.valid_during`, for a unit already in hand."""
        return (self.valid_from is None or self.valid_from <= period.end) and (
            self.valid_to is None or period.start <= self.valid_to
        )

    @property
    def is_current(self) -> bool:
        return self.is_valid_on(date.today())

    @property
    def ancestor_ids(self) -> list[int]:
        """Primary keys from the root down to this unit's parent."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def ancestors(self) -> list[Unit]:
        by_id = Unit.objects.in_bulk(self.ancestor_ids)
        return [by_id[pk] for pk in self.ancestor_ids if pk in by_id]

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)

    def build_path(self) -> str:
        if not self.parent_id:
            return f"/{self.pk}/"
        # Read the parent's path from the database: the instance in memory may be stale
        # (its own path computed after it was fetched, or it was moved since).
        parent_path = Unit.objects.filter(pk=self.parent_id).values_list("path", flat=True).first()
        return f"{parent_path or '/'}{self.pk}/"


def rebase_subtree(old_prefix: str, new_prefix: str) -> None:
    """Move the paths of a subtree after its root moved (rare: a manual re-parenting)."""
    moved = Unit.objects.filter(path__startswith=old_prefix)
    for unit in moved:
        unit.path = new_prefix + unit.path[len(old_prefix) :]
    Unit.objects.bulk_update(moved, ["path"], batch_size=1000)


class UnitAncestor(models.Model):
    """Closure of the tree: one row per (unit, ancestor-or-self).

    The rollup of data values joins on this table, which is cheaper than prefix-matching
    paths row by row.
    """

    unit = models.ForeignKey(Unit, models.CASCADE, related_name="ancestor_links")
    ancestor = models.ForeignKey(Unit, models.CASCADE, related_name="descendant_links")
    depth = models.PositiveSmallIntegerField(help_text="0 for the unit itself, 1 for its parent, …")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "ancestor"], name="unit_ancestor_unique")
        ]
        indexes = [models.Index(fields=["ancestor", "depth"])]

    def __str__(self) -> str:
        return f"{self.unit_id} ⊂ {self.ancestor_id} ({self.depth})"

    @classmethod
    def rebuild_for(cls, unit_ids) -> None:
        unit_ids = list(unit_ids)
        for start in range(0, len(unit_ids), 900):
            chunk = unit_ids[start : start + 900]
            cls.objects.filter(unit_id__in=chunk).delete()
            rows = []
            for pk, path in Unit.objects.filter(pk__in=chunk).values_list("pk", "path"):
                ids = [int(p) for p in path.strip("/").split("/") if p]
                for depth, ancestor in enumerate(reversed(ids)):
                    rows.append(cls(unit_id=pk, ancestor_id=ancestor, depth=depth))
            cls.objects.bulk_create(rows, batch_size=2000)


class ChangeKind(models.TextChoices):
    MERGE = "merge", _("Sáp nhập")
    SPLIT = "split", _("Chia tách")
    RENAME = "rename", _("Đổi tên")
    RECODE = "recode", _("Đổi mã / chuyển tiếp")
    MOVE = "move", _("Chuyển đơn vị cấp trên")
    RECLASSIFY = "reclassify", _("Chuyển loại đơn vị")
    ESTABLISH = "establish", _("Thành lập")
    DISSOLVE = "dissolve", _("Giải thể")


class LegalAct(models.Model):
    """The legal basis of an event: a resolution or decision, by its number and issuer."""

    number = models.CharField(
        _("số, ký hiệu"), max_length=200, help_text=_("Ví dụ: 832/NQ-UBTVQH14")
    )
    signed_on = models.DateField(_("ngày ban hành"), null=True, blank=True)
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200, blank=True)
    title = models.CharField(_("trích yếu"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("văn bản căn cứ")
        verbose_name_plural = _("văn bản căn cứ")
        constraints = [
            models.UniqueConstraint(fields=["number", "issuer"], name="legal_act_number_issuer")
        ]

    def __str__(self) -> str:
        return self.number


class UnitEvent(models.Model):
    """One dated reorganisation: the links it made and every unit it ended or started.

    ``units`` lists the versions the event ended or started, so that an establishment
    without predecessor or a dissolution without successor still shows on the unit's page.
    ``fingerprint`` identifies an event loaded from a file (the same event loaded twice is
    found, not written again); it is empty for events migrated from older rows.
    """

    kind = models.CharField(_("loại"), max_length=10, choices=ChangeKind.choices)
    effective_date = models.DateField(_("ngày hiệu lực"))
    act = models.ForeignKey(
        LegalAct,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("căn cứ"),
    )
    note = models.CharField(_("ghi chú"), max_length=300, blank=True)
    source = models.CharField(_("nguồn"), max_length=200, blank=True)
    units = models.ManyToManyField(Unit, related_name="events", verbose_name=_("đơn vị"))
    fingerprint = models.CharField(max_length=64, blank=True, editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sự kiện thay đổi đơn vị")
        verbose_name_plural = _("sự kiện thay đổi đơn vị")
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=~Q(fingerprint=""),
                name="unit_event_fingerprint_unique",
            )
        ]
        indexes = [models.Index(fields=["effective_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_date:%d/%m/%Y}"


class UnitChange(models.Model):
    """One predecessor → successor link of a dated reorganisation.

    A predecessor that went whole into one successor has one link with share 1. A
    predecessor split across several successors has one link each; its data can be
    re-expressed in today's units only with an allocation share per link, which the
    official conversion table does not give: such links are flagged until someone
    enters the shares.
    """

    kind = models.CharField(_("loại"), max_length=10, choices=ChangeKind.choices)
    effective_date = models.DateField(_("ngày hiệu lực"))
    # The act as text, kept for rows written before events (and filled with the act's
    # number on new ones); the event's act is the structured legal basis.
    legal_basis = models.CharField(_("căn cứ"), max_length=200, blank=True)
    event = models.ForeignKey(
        UnitEvent,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("sự kiện"),
    )
    predecessor = models.ForeignKey(
        Unit, models.CASCADE, related_name="successor_links", verbose_name=_("đơn vị cũ")
    )
    successor = models.ForeignKey(
        Unit, models.CASCADE, related_name="predecessor_links", verbose_name=_("đơn vị mới")
    )
    partial = models.BooleanField(
        _("sáp nhập một phần"),
        default=False,
        help_text=_("Chỉ một phần đơn vị cũ nhập vào đơn vị mới"),
    )
    share = models.DecimalField(
        _("tỷ lệ phân bổ"),
        max_digits=7,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("Phần số liệu của đơn vị cũ tính cho đơn vị mới (0-1)"),
    )
    note = models.CharField(_("ghi chú"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("thay đổi đơn vị")
        verbose_name_plural = _("thay đổi đơn vị")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="unit_change_link_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor} ({self.get_kind_display()})"

    @property
    def needs_share(self) -> bool:
        return self.partial and self.share is None
