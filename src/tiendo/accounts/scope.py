"""The one place that answers "may this user read or write this unit?".

Every view and every query that shows or changes a unit's data goes through these
functions (healthchecks' ``_get_rw_check_for_user``, pretix's scopes). A user sees the
unit they belong to and everything below it — including the units of an older tree that
became part of it — and writes there only with a writing role.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from tiendo.accounts.models import MANAGING_ROLES, WRITING_ROLES, Role
from tiendo.units.models import Level, Unit, UnitChange, UnitKind


def _home_paths(user) -> list[str] | None:
    """Path prefixes the user may read; ``None`` means everything."""
    if not user.is_authenticated:
        return []
    if user.is_superuser or user.role == Role.ADMIN:
        return None
    if user.unit_id is None:
        return []
    home = user.unit
    # Units of the tree before a reorganisation that became part of the user's unit: a
    # Tuyên Quang officer reads what Hà Giang reported before the 2025 merger. One recursive
    # query follows the predecessor chains, however many units were merged and however many
    # reorganisations ago, instead of one query per unit.
    paths = [home.path, *_predecessor_paths(home.path)]
    # keep only the outermost prefixes
    paths.sort(key=len)
    outer: list[str] = []
    for path in paths:
        if not any(path.startswith(o) for o in outer):
            outer.append(path)
    return outer


_PREDECESSOR_PATHS_SQL = """
WITH RECURSIVE reached(unit_id) AS (
    SELECT uc.predecessor_id
    FROM {change} uc JOIN {unit} successor ON successor.id = uc.successor_id
    WHERE successor.path LIKE %s
    UNION
    SELECT uc.predecessor_id
    FROM {change} uc JOIN reached ON uc.successor_id = reached.unit_id
)
SELECT unit.path FROM reached JOIN {unit} unit ON unit.id = reached.unit_id
"""


def _predecessor_paths(home_path: str) -> list[str]:
    """Paths of every unit that became, through one or more changes, part of ``home_path``.

    The first step takes the changes into any unit of the subtree; later steps follow each
    predecessor's own predecessors. ``UNION`` (not ``UNION ALL``) stops at a cycle. Both
    SQLite and PostgreSQL run ``WITH RECURSIVE``; paths hold only digits and slashes, so the
    ``LIKE`` prefix needs no escaping.
    """
    sql = _PREDECESSOR_PATHS_SQL.format(
        change=connection.ops.quote_name(UnitChange._meta.db_table),
        unit=connection.ops.quote_name(Unit._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [home_path + "%"])
        return [row[0] for row in cursor.fetchall()]


def readable_units(user) -> QuerySet[Unit]:
    paths = _cached_paths(user)
    if paths is None:
        return Unit.objects.all()
    if not paths:
        return Unit.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return Unit.objects.filter(condition)


def _cached_paths(user):
    cache = getattr(user, "_tiendo_scope_paths", "missing")
    if cache == "missing":
        cache = _home_paths(user)
        user._tiendo_scope_paths = cache
    return cache


def can_read(user, unit: Unit) -> bool:
    paths = _cached_paths(user)
    if paths is None:
        return True
    return any(unit.path.startswith(p) for p in paths)


def can_write(user, unit: Unit) -> bool:
    if not user.is_authenticated:
        return False
    if not (user.is_superuser or user.role in WRITING_ROLES):
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    # Writing is only into the user's own subtree of the tree in force, never into the
    # units of an older tree that were merged into it.
    return user.unit_id is not None and unit.path.startswith(user.unit.path)


def check_unit(user, unit: Unit, *, write: bool = False) -> Unit:
    """Raise ``PermissionDenied`` unless the user may read (or write) ``unit``."""
    allowed = can_write(user, unit) if write else can_read(user, unit)
    if not allowed:
        raise PermissionDenied(
            _("Bạn không có quyền ghi số liệu của đơn vị này.")
            if write
            else _("Bạn không có quyền xem đơn vị này.")
        )
    return unit


def is_admin(user) -> bool:
    """The system administrator (or a Django superuser): reads and writes everywhere."""
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def is_manager(user) -> bool:
    """The coordination office or the administrator (:data:`MANAGING_ROLES`), anywhere."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in MANAGING_ROLES))


def can_manage_units(user, unit: Unit) -> bool:
    """Create agencies under ``unit`` or set allocation shares of its changes.

    Unit lists are the coordination office's and the administrator's business, within
    what they may write.
    """
    return is_manager(user) and can_write(user, unit)


def may_manage_templates(user, unit: Unit) -> bool:
    """Upload Word templates for ``unit``: a template is code the server runs when a report
    is rendered, so only the coordination office and the administrator, within what they
    may write."""
    return is_manager(user) and can_write(user, unit)


def may_define_reports(user, unit: Unit) -> bool:
    """Create or edit the report definitions issued by ``unit`` (their header, sections,
    annexes, own template): the coordination office and the administrator, within what
    they may write. Others read the definitions of the units they may read."""
    return is_manager(user) and can_write(user, unit)


# ---------------------------------------------------------------------------------------
# Letters and answers. These take the reporting app's objects by their attributes
# (``submission.unit``, ``submission.approver_units()``) and import nothing from it:
# accounts sits below reporting in the layering (tests/test_layers.py).


def may_issue(user, issuer: Unit) -> bool:
    """Coordinators (and administrators) send letters on behalf of units in their scope."""
    return is_manager(user) and can_write(user, issuer)


def may_approve(user, submission) -> bool:
    """Approve or return ``submission``: an officer writing for one of its approver units;
    never the unit itself, unless the user is the administrator."""
    if not user.is_authenticated or user.unit_id == submission.unit_id:
        return is_admin(user)
    return any(can_write(user, u) for u in submission.approver_units())


def may_edit(user, submission) -> bool:
    """A unit answers for itself: its own officers write the submission, not the approvers
    above (who may write its figures elsewhere but must not answer in its name)."""
    if not can_write(user, submission.unit):
        return False
    return user.unit_id == submission.unit_id or is_admin(user)


# ---------------------------------------------------------------------------------------
# Fetch and check, in the healthchecks manner: a view asks for the object it may see and
# gets it, or a 404 (no such object) or a 403 (not yours). Views never fetch and then
# check.


def get_unit_or_403(user, pk, *, write: bool = False) -> Unit:
    """The unit ``pk`` if the user may read it (or write it, with ``write=True``)."""
    return check_unit(user, _get_or_404(Unit.objects.all(), pk=pk), write=write)


def get_managed_unit_or_403(user, pk) -> Unit:
    """The unit ``pk`` if the user may manage its unit list (:func:`can_manage_units`)."""
    return check_manage_units(user, _get_or_404(Unit.objects.all(), pk=pk))


def _get_or_404(queryset: QuerySet, **lookup):
    """``get_object_or_404`` that also answers 404 for a key of the wrong type (``?don_vi=x``)
    instead of a server error."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


def check_manage_units(user, unit: Unit) -> Unit:
    if not can_manage_units(user, unit):
        raise PermissionDenied(
            _(
                "Chỉ văn phòng điều phối hoặc quản trị hệ thống của đơn vị mới được sửa danh mục "
                "đơn vị."
            )
        )
    return unit


def get_request_or_403(user, pk, *, queryset: QuerySet):
    """The letter ``pk`` of ``queryset`` (the reporting app's ``ReportRequest`` rows) if
    the user may read its issuing unit."""
    letter = _get_or_404(queryset, pk=pk)
    if not sees_whole_request(user, letter):
        raise PermissionDenied(_("Bạn không có quyền xem công văn này."))
    return letter


def get_submission_or_403(user, pk, *, queryset: QuerySet, write: bool = False):
    """The submission ``pk`` of ``queryset`` if the user may read it — its unit is in the
    user's scope, or the user approves it — or, with ``write=True``, answer it
    (:func:`may_edit`)."""
    submission = _get_or_404(queryset, pk=pk)
    if not (can_read(user, submission.unit) or may_approve(user, submission)):
        raise PermissionDenied(_("Bạn không có quyền xem báo cáo này."))
    if write and not may_edit(user, submission):
        raise PermissionDenied(_("Bạn không có quyền sửa báo cáo của đơn vị này."))
    return submission


# ---------------------------------------------------------------------------------------
# Who a letter may be addressed to (added for the letter form's recipient picker).


def letter_scope_root(issuer: Unit) -> Unit:
    """The unit whose subtree a letter of ``issuer`` may be sent to: the issuer itself, or
    for an agency (a Sở, a Phòng) the administrative unit it belongs to — a provincial
    department writes to the province's districts and communes."""
    unit = issuer
    while unit.kind == UnitKind.AGENCY and unit.parent_id is not None:
        unit = unit.parent
    return unit


def letter_recipient_units(user, issuer: Unit, on) -> QuerySet[Unit]:
    """The units a letter of ``issuer`` dated ``on`` may be sent to: the subtree of
    :func:`letter_scope_root`, valid on that day, and readable by ``user``."""
    root = letter_scope_root(issuer)
    return (
        readable_units(user)
        .filter(path__startswith=root.path)
        .filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=on),
            Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        )
    )


def may_address(user, issuer: Unit, unit: Unit, on) -> bool:
    """``unit`` may receive a letter of ``issuer`` dated ``on`` sent by ``user``."""
    return (
        unit.is_valid_on(on)
        and unit.path.startswith(letter_scope_root(issuer).path)
        and can_read(user, unit)
    )


# ---------------------------------------------------------------------------------------
# Reading a letter: one rule for its page and for the Excel sheets it asks for.

_DRAFT = "draft"  # reporting's RequestStatus.DRAFT (accounts imports nothing from reporting)


def sees_whole_request(user, letter) -> bool:
    """The issuer's side of a letter: whoever reads the issuing unit sees the letter in
    every state, and every unit's answer to it."""
    return can_read(user, letter.issuer)


def can_read_request(user, letter) -> bool:
    """Read the letter ``letter`` (a reporting ``ReportRequest``): the issuer's side
    (:func:`sees_whole_request`), or — once the letter is sent — a user whose scope holds
    one of the units it is addressed to. Such a reader sees the letter and the answers of
    the units in their own scope (:func:`get_submission_or_403`), not the other units'."""
    if sees_whole_request(user, letter):
        return True
    if not user.is_authenticated or letter.status == _DRAFT:
        return False
    return letter.recipients.filter(unit__in=readable_units(user)).exists()


def get_readable_request_or_403(user, pk, *, queryset: QuerySet):
    """The letter ``pk`` of ``queryset`` if the user may read it (:func:`can_read_request`):
    its issuer's side, or a unit it is addressed to."""
    letter = _get_or_404(queryset, pk=pk)
    if not can_read_request(user, letter):
        raise PermissionDenied(_("Bạn không có quyền xem công văn này."))
    return letter


# ---------------------------------------------------------------------------------------
# Accounts. A coordinator manages the accounts of the units it may write (its own unit and
# what lies below it in the tree in force); the administrator manages every account. No one
# but the administrator touches an administrator's account or gives the administrator role.


def can_manage_accounts(user, unit: Unit | None) -> bool:
    """Create or move accounts into ``unit`` (``None``: an account without a unit, which
    only the administrator keeps)."""
    if unit is None:
        return is_admin(user)
    return is_manager(user) and can_write(user, unit)


def assignable_roles(user) -> list[str]:
    """The roles ``user`` may give: never one above their own."""
    if is_admin(user):
        return list(Role.values)
    if is_manager(user):
        return [role for role in Role.values if role != Role.ADMIN]
    return []


def manageable_accounts(user) -> QuerySet:
    """The accounts ``user`` manages (:func:`may_manage_account` as a query)."""
    from tiendo.accounts.models import User

    if is_admin(user):
        if user.is_superuser:
            return User.objects.all()
        return User.objects.exclude(is_superuser=True)
    if not is_manager(user) or user.unit_id is None:
        return User.objects.none()
    return User.objects.filter(unit__path__startswith=user.unit.path).exclude(
        Q(role=Role.ADMIN) | Q(is_superuser=True)
    )


def may_manage_account(user, account) -> bool:
    """Edit, deactivate or reset the password of ``account``."""
    if not is_manager(user):
        return False
    if account.is_superuser:
        return bool(user.is_superuser)
    if is_admin(user):
        return True
    if account.role == Role.ADMIN or account.unit_id is None:
        return False
    return can_write(user, account.unit)


def get_account_or_403(user, pk):
    """The account ``pk`` if ``user`` manages it."""
    from tiendo.accounts.models import User

    account = _get_or_404(User.objects.select_related("unit"), pk=pk)
    if not may_manage_account(user, account):
        raise PermissionDenied(_("Bạn không có quyền quản lý tài khoản này."))
    return account


def check_manage_accounts(user) -> None:
    """Raise ``PermissionDenied`` unless ``user`` manages some accounts (the account pages)."""
    if not (is_admin(user) or (is_manager(user) and user.unit_id is not None)):
        raise PermissionDenied(
            _("Chỉ văn phòng điều phối hoặc quản trị hệ thống mới được quản lý tài khoản.")
        )


# ---------------------------------------------------------------------------------------
# Reorganisations of the unit tree (issue 10): recording a merge, split, rename… with its
# legal basis.


def may_record_unit_change(user, unit: Unit) -> bool:
    """Record a reorganisation of ``unit``: the administrator anywhere; a coordinator whose
    own unit is a province (or the nation), within what they may write — the tree in force
    below them, never the units of an older tree (those are the administrator's, by a
    change file)."""
    if is_admin(user):
        return True
    if not (user.is_authenticated and user.role == Role.COORDINATOR and user.unit_id):
        return False
    return user.unit.level <= Level.PROVINCE and can_write(user, unit)


def check_record_unit_change(user, unit: Unit) -> Unit:
    if not may_record_unit_change(user, unit):
        raise PermissionDenied(
            _(
                "Chỉ quản trị hệ thống hoặc văn phòng điều phối cấp tỉnh quản lý đơn vị này mới "
                "được ghi nhận thay đổi đơn vị."
            )
        )
    return unit


# ---------------------------------------------------------------------------------------
# Programmes: who may change them (metadata packages).


def may_administer_programme(user, owner: Unit | None) -> bool:
    """Load a package for a programme owned by ``owner``: the administrator anywhere; the
    coordination office of the owner unit or of a unit above it (in the tree in force). A
    programme without an owner belongs to the installation: the administrator only."""
    if is_admin(user):
        return True
    if owner is None or not user.is_authenticated or user.role != Role.COORDINATOR:
        return False
    return can_write(user, owner)


def readable_paths(user) -> list[str] | None:
    """The path prefixes of the subtrees ``user`` reads (``None``: everything), for queries
    of other apps that follow the same scope (the programmes a user deals with)."""
    return _cached_paths(user)


# ---------------------------------------------------------------------------------------
# NTM assessments (issue 11, assess): who enters a commune's results and records its
# recognition.


def may_assess(user, unit: Unit) -> bool:
    """Enter or change the NTM assessment of ``unit``: a commune officer for their own
    commune, the coordination office for the communes below it, the administrator; never
    a leader (read only) nor an agency officer."""
    if is_admin(user):
        return True
    if not (user.is_authenticated and user.unit_id):
        return False
    if user.role == Role.COMMUNE_OFFICER:
        return user.unit_id == unit.pk
    return user.role == Role.COORDINATOR and can_write(user, unit)


def check_assess(user, unit: Unit) -> Unit:
    if not may_assess(user, unit):
        raise PermissionDenied(
            _(
                "Chỉ cán bộ của xã hoặc văn phòng điều phối cấp trên mới được nhập kết quả "
                "đánh giá tiêu chí của xã này."
            )
        )
    return unit


def may_record_recognition(user, unit: Unit) -> bool:
    """Record (or withdraw) the decision recognising ``unit``: the administrator; the
    coordination office of the province (or the nation) the commune lies in."""
    if is_admin(user):
        return True
    if not (user.is_authenticated and user.role == Role.COORDINATOR and user.unit_id):
        return False
    return user.unit.level <= Level.PROVINCE and can_write(user, unit)


def check_record_recognition(user, unit: Unit) -> Unit:
    if not may_record_recognition(user, unit):
        raise PermissionDenied(
            _(
                "Chỉ văn phòng điều phối cấp tỉnh mới được ghi quyết định công nhận xã đạt "
                "chuẩn nông thôn mới."
            )
        )
    return unit


def may_manage_ntm_tasks(user, province) -> bool:
    """Record or end the NTM criteria assignments and sponsorships of ``province``: its
    coordination office (or the administrator)."""
    return is_manager(user) and can_write(user, province)


# ---------------------------------------------------------------------------------------
# The household register (issue 12): personal data under Decree 13/2023/NĐ-CP. Names and
# records only for the household's commune and the units above it, to the roles that work
# on records; leaders see aggregates only. Full ID numbers only to the commune's own officer
# (who registers the people) or a user granted ``households.view_id_numbers``.

RECORD_ROLES = frozenset({Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER, Role.COORDINATOR})


def may_see_records(user, unit: Unit) -> bool:
    """See the names and records of the households of ``unit`` (and below it)."""
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    return user.role in RECORD_ROLES and can_read(user, unit)


def may_see_id_numbers(user, unit: Unit) -> bool:
    """See the ID numbers of the households of ``unit`` in full (others see them masked)."""
    if not may_see_records(user, unit):
        return False
    if user.has_perm("households.view_id_numbers"):
        return True
    return user.role == Role.COMMUNE_OFFICER and user.unit_id == unit.pk


def may_edit_records(user, unit: Unit) -> bool:
    """Add, change or remove the households of ``unit``: who may write the unit's figures
    and see its records (a leader never)."""
    return may_see_records(user, unit) and can_write(user, unit)


def check_see_records(user, unit: Unit, *, write: bool = False) -> Unit:
    allowed = may_edit_records(user, unit) if write else may_see_records(user, unit)
    if not allowed:
        raise PermissionDenied(
            _("Bạn không có quyền sửa danh sách hộ của đơn vị này.")
            if write
            else _(
                "Bạn không có quyền xem danh sách hộ của đơn vị này (dữ liệu cá nhân chỉ dành "
                "cho cán bộ làm việc với hồ sơ của xã và các cấp trên)."
            )
        )
    return unit


def get_record_or_403(user, pk, *, queryset: QuerySet, write: bool = False):
    """The register record ``pk`` of ``queryset`` (a household: the households app's rows,
    which have a residence ``unit``) if the user may see its commune's records — or, with
    ``write=True``, change them. Leaders and users of other units get a 403, as for the
    unit pages; a pk that does not exist a 404."""
    record = _get_or_404(queryset, pk=pk)
    check_see_records(user, record.unit, write=write)
    return record


def may_audit_exports(user, unit: Unit) -> bool:
    """Read who exported personal data of ``unit``'s households (Decree 13 audit): the
    coordination office and the administrator, within what they may see."""
    return is_manager(user) and may_see_records(user, unit)


def check_audit_exports(user, unit: Unit) -> Unit:
    if not may_audit_exports(user, unit):
        raise PermissionDenied(
            _(
                "Chỉ văn phòng điều phối hoặc quản trị hệ thống xem được nhật ký xuất dữ liệu cá nhân."
            )
        )
    return unit


# ---------------------------------------------------------------------------------------
# Background jobs (tiendo.core.models.Job, taken by its attributes): a job's page shows what
# its run read (an import's rows, with names), so only the one who started it, the
# administrator and the coordination office of a unit above it see it.


def may_see_job(user, job) -> bool:
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    if job.started_by_id is not None and job.started_by_id == user.pk:
        return True
    return job.unit is not None and is_manager(user) and can_read(user, job.unit)


def get_job_or_404(user, pk, *, queryset: QuerySet):
    """The job ``pk`` of ``queryset`` if ``user`` may see it; someone else's job is a 404,
    as if it did not exist (its kind and unit are not theirs to learn)."""
    job = _get_or_404(queryset, pk=pk)
    if not may_see_job(user, job):
        raise Http404(_("Không tìm thấy."))
    return job
