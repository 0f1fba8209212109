"""Accounts: who works in which unit with which role.

Every write to an account — from the account pages, an imported list or ``tiendo users`` —
is one of these functions: check who asks (``accounts.scope``), lock the row, check its
version, save, audit with the old and new values. ``actor=None`` is the command line: the
operator of the server, who may do what the administrator may.

A password chosen by someone else is a one-time password: shown once (or printed once),
never stored in clear nor written to the audit log, and the account must change it at the
next login (``User.must_change_password``, :mod:`tiendo.accounts.middleware`). When an SMTP
server is configured (``SMTP_HOST``) and the account has an email address, Django's
password-reset link is mailed instead and no one but the account's owner sees a password.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.models import Role, User
from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.units.models import Unit

log = logging.getLogger(__name__)

# what an account page may change, with the name the audit log gives each field
EDITABLE_FIELDS = ("first_name", "email", "unit", "role", "position")
# a one-time password: 4 groups of 4 from 31 unambiguous characters (about 79 bits)
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ2345679"


class AccountError(TiendoError):
    """A refused change to an account; ``field`` names the form field it concerns."""

    code = "account.refused"

    def __init__(self, message=None, *, code: str | None = None, field: str = "", **params):
        self.field = field
        super().__init__(message, code=code, **params)


@dataclass
class PasswordIssued:
    """How the account's owner gets a password: ``password`` to show once, or the address
    the reset link was mailed to."""

    account: User
    password: str | None = None
    emailed_to: str | None = None


def email_configured() -> bool:
    """Mail goes out only when an SMTP server is set (``SMTP_HOST``, as notifications)."""
    return bool(getattr(settings, "SMTP_HOST", ""))


def one_time_password() -> str:
    groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


# --- rights ------------------------------------------------------------------------------


def _is_operator(actor) -> bool:
    """The command line or the administrator."""
    return actor is None or scope.is_admin(actor)


def _check_manager(actor) -> None:
    if actor is not None and not scope.is_manager(actor):
        raise AccountError(
            _("Chỉ văn phòng điều phối hoặc quản trị hệ thống mới được quản lý tài khoản."),
            code="account.not_manager",
        )


def _check_account(actor, account: User) -> None:
    if actor is not None and not scope.may_manage_account(actor, account):
        raise AccountError(
            _("Bạn không có quyền quản lý tài khoản “%(username)s”."),
            code="account.out_of_scope",
            username=account.username,
        )


def role_problem(actor, role: str) -> AccountError | None:
    if role not in Role.values:
        return AccountError(
            _("Vai trò “%(role)s” không có; các vai trò: %(roles)s."),
            code="account.bad_role",
            field="role",
            role=role,
            roles=", ".join(Role.values),
        )
    if actor is not None and role not in scope.assignable_roles(actor):
        return AccountError(
            _("Bạn không được giao vai trò “%(role)s” (cao hơn vai trò của bạn)."),
            code="account.role_above_own",
            field="role",
            role=Role(role).label,
        )
    return None


def unit_problem(actor, unit: Unit | None, role: str) -> AccountError | None:
    if unit is None:
        if role != Role.ADMIN:
            return AccountError(
                _("Tài khoản phải gắn với một đơn vị (chỉ quản trị hệ thống có thể không có)."),
                code="account.unit_required",
                field="unit",
            )
        return None
    if actor is not None and not scope.can_manage_accounts(actor, unit):
        return AccountError(
            # the code the user typed, not the name of a unit they may not see
            _("Đơn vị mã “%(unit_code)s” nằm ngoài phạm vi bạn quản lý."),
            code="account.unit_out_of_scope",
            field="unit",
            unit_code=unit.code,
        )
    return None


def _check_assignment(actor, unit: Unit | None, role: str) -> None:
    problem = role_problem(actor, role) or unit_problem(actor, unit, role)
    if problem is not None:
        raise problem


def username_problem(username: str, *, exclude_pk=None) -> AccountError | None:
    if not username:
        return AccountError(
            _("Thiếu tên đăng nhập."), code="account.username_missing", field="username"
        )
    if len(username) > 150:
        return AccountError(
            _("Tên đăng nhập dài quá 150 ký tự."), code="account.username_long", field="username"
        )
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return AccountError(
            _(
                "Tên đăng nhập “%(username)s” chỉ được gồm chữ, số và các dấu @ . + - _ "
                "(không có dấu cách)."
            ),
            code="account.username_invalid",
            field="username",
            username=username,
        )
    taken = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        return AccountError(
            _("Tên đăng nhập “%(username)s” đã có người dùng."),
            code="account.username_taken",
            field="username",
            username=username,
        )
    return None


def email_problem(email: str) -> AccountError | None:
    if not email:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return AccountError(
            _("Địa chỉ email “%(email)s” không hợp lệ."),
            code="account.bad_email",
            field="email",
            email=email,
        )
    return None


def _text_problem(value: str, *, limit: int, field_name: str, label) -> AccountError | None:
    if len(value) > limit:
        return AccountError(
            _("%(label)s dài quá %(limit)s ký tự."),
            code="account.too_long",
            field=field_name,
            label=label,
            limit=limit,
        )
    return None


def _raise_first(*problems) -> None:
    for problem in problems:
        if problem is not None:
            raise problem


# --- passwords ---------------------------------------------------------------------------


def _reset_link(account: User, site_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    token = default_token_generator.make_token(account)
    path = reverse("accounts:reset_confirm", kwargs={"uidb64": uid, "token": token})
    return site_url.rstrip("/") + path


def _mail_reset_link(account: User, site_url: str) -> None:
    link = _reset_link(account, site_url)
    subject = str(_("Đặt mật khẩu tài khoản Tiến Độ"))
    body = str(
        _(
            "Tài khoản “%(username)s” của bạn trên Tiến Độ cần một mật khẩu mới. Mở liên kết "
            "sau để tự đặt mật khẩu (liên kết chỉ dùng được một lần):\n%(link)s"
        )
    ) % {"username": account.username, "link": link}
    address = account.email

    def send():
        try:
            send_mail(subject, body, None, [address])
        except OSError:
            log.warning("could not send the password link to %s", address, exc_info=True)

    transaction.on_commit(send)


def _issue_password(account: User, *, site_url: str | None, password: str | None = None):
    """Give ``account`` a password someone else chose (``password``), or a one-time one, or
    (mail configured, an address known, a ``site_url`` to link to) a reset link.

    Saves the account's password fields; returns the :class:`PasswordIssued`."""
    if password is not None:
        account.set_password(password)
        account.must_change_password = False
        issued = PasswordIssued(account)
    elif site_url and email_configured() and account.email:
        account.set_unusable_password()
        account.must_change_password = False
        issued = PasswordIssued(account, emailed_to=account.email)
    else:
        secret = one_time_password()
        account.set_password(secret)
        account.must_change_password = True
        issued = PasswordIssued(account, password=secret)
    account.save(update_fields=["password", "must_change_password"])
    if issued.emailed_to:
        # the token depends on the saved password hash: make it after the save
        _mail_reset_link(account, site_url)
    return issued


# --- the writes --------------------------------------------------------------------------


def create_account(
    actor,
    *,
    username: str,
    unit: Unit | None,
    role: str,
    full_name: str = "",
    email: str = "",
    position: str = "",
    password: str | None = None,
    site_url: str | None = None,
    via: str = "page",
) -> PasswordIssued:
    """A new account in ``unit`` with ``role``; see :func:`_issue_password` for its password."""
    _check_manager(actor)
    username, full_name, email, position = (
        (username or "").strip(),
        (full_name or "").strip(),
        (email or "").strip(),
        (position or "").strip(),
    )
    _raise_first(
        username_problem(username),
        _text_problem(full_name, limit=150, field_name="full_name", label=_("Họ và tên")),
        email_problem(email),
        _text_problem(position, limit=120, field_name="position", label=_("Chức vụ")),
    )
    _check_assignment(actor, unit, role)
    account = User(
        username=username,
        first_name=full_name,
        email=email,
        unit=unit,
        role=role,
        position=position,
    )
    if password is not None:
        try:
            validate_password(password, account)
        except ValidationError as exc:
            raise AccountError(
                _("Mật khẩu không dùng được: %(reasons)s"),
                code="account.weak_password",
                field="password",
                reasons=" ".join(exc.messages),
            ) from exc
    with transaction.atomic():
        # the unit row is locked so that it cannot be removed under the new account
        if unit is not None:
            Unit.objects.select_for_update().get(pk=unit.pk)
        if User.objects.filter(username__iexact=username).exists():
            raise username_problem(username)
        account.set_unusable_password()
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:  # the same username saved a moment ago by someone else
            raise username_problem(username) or AccountError(
                code="account.username_taken"
            ) from None
        issued = _issue_password(account, site_url=site_url, password=password)
        audit(
            "account.created",
            actor=actor,
            unit=unit,
            obj=account,
            username=username,
            role=role,
            unit_code=unit.code if unit else "",
            email=email,
            full_name=full_name,
            password="emailed" if issued.emailed_to else "set" if password else "one_time",
            via=via,
        )
    return issued


def _locked(pk) -> User:
    try:
        # of self only: PostgreSQL locks no row of the outer join to a unit that may be null
        return User.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
    except User.DoesNotExist:
        raise AccountError(_("Không tìm thấy tài khoản."), code="account.not_found") from None


def _shown(name: str, value):
    if name == "unit":
        return value.code if value is not None else ""
    return value


def update_account(
    actor,
    pk,
    *,
    version: int,
    full_name: str,
    email: str,
    unit: Unit | None,
    role: str,
    position: str = "",
    via: str = "page",
) -> dict:
    """Change what the account page edits; returns ``{field: (old, new)}`` of what changed.

    ``version`` is the account's :attr:`User.version` the form was prepared from: a save by
    someone else since then refuses this one (``account.stale``).
    """
    _check_manager(actor)
    full_name, email, position = (
        (full_name or "").strip(),
        (email or "").strip(),
        (position or "").strip(),
    )
    _raise_first(
        _text_problem(full_name, limit=150, field_name="full_name", label=_("Họ và tên")),
        email_problem(email),
        _text_problem(position, limit=120, field_name="position", label=_("Chức vụ")),
    )
    with transaction.atomic():
        account = _locked(pk)
        _check_account(actor, account)
        if account.version != version:
            raise AccountError(
                _(
                    "Tài khoản “%(username)s” vừa được người khác sửa sau khi bạn mở trang; "
                    "xin mở lại trang để xem thay đổi rồi sửa lại."
                ),
                code="account.stale",
                username=account.username,
            )
        new = {
            "first_name": full_name,
            "email": email,
            "unit": unit,
            "role": role,
            "position": position,
        }
        changes = {
            name: (_shown(name, getattr(account, name)), _shown(name, value))
            for name, value in new.items()
            if getattr(account, name) != value
        }
        if not changes:
            return {}
        if "unit" in changes or "role" in changes:
            _check_own_account(actor, account, changes)
            _check_assignment(actor, unit, role)
        for name, value in new.items():
            setattr(account, name, value)
        account.version += 1
        account.save(update_fields=[*EDITABLE_FIELDS, "version"])
        audit(
            "account.changed",
            actor=actor,
            unit=account.unit,
            obj=account,
            username=account.username,
            changes={name: list(pair) for name, pair in changes.items()},
            via=via,
        )
    return changes


def _check_own_account(actor, account: User, changes: dict) -> None:
    """A coordinator does not move itself to another unit nor change its own role."""
    if actor is None or actor.pk != account.pk or scope.is_admin(actor):
        return
    if "unit" in changes:
        raise AccountError(
            _("Bạn không thể tự chuyển tài khoản của mình sang đơn vị khác."),
            code="account.own_unit",
            field="unit",
        )
    raise AccountError(
        _("Bạn không thể tự đổi vai trò của mình."), code="account.own_role", field="role"
    )


def set_active(actor, pk, active: bool, *, via: str = "page") -> User:
    """Deactivate (no login, sessions end) or reactivate an account; nothing is deleted."""
    _check_manager(actor)
    with transaction.atomic():
        account = _locked(pk)
        _check_account(actor, account)
        if actor is not None and actor.pk == account.pk and not active:
            raise AccountError(
                _("Bạn không thể tự khóa tài khoản của mình."), code="account.own_active"
            )
        if account.is_active == active:
            return account
        account.is_active = active
        account.version += 1
        account.save(update_fields=["is_active", "version"])
        audit(
            "account.reactivated" if active else "account.deactivated",
            actor=actor,
            unit=account.unit,
            obj=account,
            username=account.username,
            changes={"is_active": [not active, active]},
            via=via,
        )
    return account


def reset_password(actor, pk, *, site_url: str | None = None, via: str = "page") -> PasswordIssued:
    """A new password for the account: a mailed link, else a one-time password."""
    _check_manager(actor)
    with transaction.atomic():
        account = _locked(pk)
        _check_account(actor, account)
        if not account.is_active:
            raise AccountError(
                _("Tài khoản “%(username)s” đang bị khóa; xin mở khóa trước."),
                code="account.inactive",
                username=account.username,
            )
        issued = _issue_password(account, site_url=site_url)
        account.version += 1
        account.save(update_fields=["version"])
        audit(
            "account.password_reset",
            actor=actor,
            unit=account.unit,
            obj=account,
            username=account.username,
            password="emailed" if issued.emailed_to else "one_time",
            via=via,
        )
    return issued


def password_changed(account: User) -> None:
    """The owner chose a password (the change page, or a mailed link): the one-time
    password's obligation ends."""
    with transaction.atomic():
        User.objects.filter(pk=account.pk).update(must_change_password=False)
        account.must_change_password = False
        audit("account.password_changed", actor=account, unit=account.unit, obj=account)


# --- lists -------------------------------------------------------------------------------


def list_accounts(actor=None, *, unit: Unit | None = None) -> list[User]:
    """The accounts ``actor`` manages (all for the command line), those of ``unit``'s
    subtree when given."""
    accounts = User.objects.all() if actor is None else scope.manageable_accounts(actor)
    if unit is not None:
        accounts = accounts.filter(unit__path__startswith=unit.path)
    return list(accounts.select_related("unit").order_by("unit__path", "username"))


# --- importing a list --------------------------------------------------------------------


@dataclass
class ImportProblem:
    line: int
    column: str  # the column's name, "" for the whole row
    message: str


@dataclass
class ImportRow:
    line: int
    username: str
    full_name: str
    email: str
    unit: Unit | None
    role: str
    action: str = "create"  # "create", "change" or "same"
    changes: dict = field(default_factory=dict)

    @property
    def role_label(self) -> str:
        return Role(self.role).label


@dataclass
class ImportPlan:
    rows: list[ImportRow]
    problems: list[ImportProblem]
    issued: list[PasswordIssued] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created_count(self) -> int:
        return self.count("create")

    @property
    def changed_count(self) -> int:
        return self.count("change")


def role_from_text(text: str) -> str | None:
    """A role by its code (``coordinator``) or its Vietnamese name (``Văn phòng điều phối``)."""
    from django.utils import translation

    from tiendo.accounts.importing import _plain

    wanted = _plain(text)
    with translation.override("vi"):
        for role in Role:
            if wanted in (_plain(role.value), _plain(str(role.label))):
                return role.value
    return None


def unit_from_code(code: str) -> Unit | None:
    """The unit of an official code; a code that lost its leading zeros in Excel (``1`` for
    ``00001``) is found too when that names one unit only."""
    from tiendo.units.services import UnitNotFound, resolve_unit

    try:
        return resolve_unit(code)
    except UnitNotFound:
        pass
    if code.isdigit():
        padded = {code.zfill(n) for n in (2, 3, 5)} - {code}
        found = list(Unit.objects.filter(code__in=padded).values_list("code", flat=True))
        if len(set(found)) == 1:
            return resolve_unit(found[0])
    return None


def check_import(actor, rows: list[dict], *, lock: bool = False) -> ImportPlan:
    """What importing ``rows`` (from :func:`tiendo.accounts.importing.read_rows`) would do,
    and every problem by line and column. Writes nothing."""
    from tiendo.accounts.importing import COLUMN_LABELS

    _check_manager(actor)
    plan = ImportPlan([], [])
    seen: dict[str, int] = {}
    names = [(r.get("username") or "").strip() for r in rows]
    existing_qs = User.objects.select_related("unit").filter(username__in=[n for n in names if n])
    if lock:
        existing_qs = existing_qs.select_for_update(of=("self",))
    existing = {u.username.lower(): u for u in existing_qs}
    # case-insensitive matches the exact filter above missed
    for name in names:
        if name and name.lower() not in existing:
            other = User.objects.filter(username__iexact=name).first()
            if other is not None:
                existing[name.lower()] = other

    def problem(row, field_name, error):
        column = str(COLUMN_LABELS[field_name]) if field_name else ""
        plan.problems.append(ImportProblem(row["line"], column, str(error)))

    for row in rows:
        line = row["line"]
        username = (row.get("username") or "").strip()
        unit_code = (row.get("unit_code") or "").strip()
        role_text = (row.get("role") or "").strip()
        count_before = len(plan.problems)
        account = existing.get(username.lower()) if username else None
        # a column the file does not have leaves an existing account's value as it is
        full_name, email = (
            (row.get(key) or "").strip()
            if row.get(key) is not None or account is None
            else getattr(account, attr)
            for key, attr in (("full_name", "first_name"), ("email", "email"))
        )
        if username.lower() in seen:
            problem(
                row,
                "username",
                AccountError(
                    _("Tên đăng nhập “%(username)s” đã có ở dòng %(line)s của tệp."),
                    code="account.import_duplicate",
                    username=username,
                    line=seen[username.lower()],
                ),
            )
        elif username:
            seen[username.lower()] = line
        if account is None:
            error = username_problem(username)
            if error is not None:
                problem(row, "username", error)
        elif actor is not None and not scope.may_manage_account(actor, account):
            problem(
                row,
                "username",
                AccountError(
                    _("Tài khoản “%(username)s” đã có và nằm ngoài phạm vi bạn quản lý."),
                    code="account.out_of_scope",
                    username=username,
                ),
            )
        for error, field_name in (
            (_text_problem(full_name, limit=150, field_name="", label=_("Họ và tên")), "full_name"),
            (email_problem(email), "email"),
        ):
            if error is not None:
                problem(row, field_name, error)
        role = role_from_text(role_text) if role_text else None
        if role is None:
            problem(
                row,
                "role",
                AccountError(
                    _("Vai trò “%(role)s” không có; các vai trò: %(roles)s."),
                    code="account.bad_role",
                    role=role_text,
                    roles=", ".join(Role.values),
                ),
            )
        else:
            error = role_problem(actor, role)
            if error is not None:
                problem(row, "role", error)
        unit = unit_from_code(unit_code) if unit_code else None
        if unit_code and unit is None:
            problem(
                row,
                "unit_code",
                AccountError(
                    _("Không có đơn vị nào mang mã “%(unit_code)s”."),
                    code="account.unknown_unit",
                    unit_code=unit_code,
                ),
            )
        elif role is not None:
            error = unit_problem(actor, unit, role)
            if error is not None:
                problem(row, "unit_code", error)
        if len(plan.problems) > count_before:
            continue
        item = ImportRow(line, username, full_name, email, unit, role)
        if account is not None:
            item.username = account.username
            new = {"first_name": full_name, "email": email, "unit": unit, "role": role}
            item.changes = {
                name: (_shown(name, getattr(account, name)), _shown(name, value))
                for name, value in new.items()
                if getattr(account, name) != value
            }
            item.action = "change" if item.changes else "same"
            if item.changes and actor is not None and actor.pk == account.pk:
                try:
                    _check_own_account(actor, account, item.changes)
                except AccountError as error:
                    problem(row, "unit_code" if error.field == "unit" else "role", error)
                    continue
        plan.rows.append(item)
    return plan


def import_accounts(
    actor, rows: list[dict], *, site_url: str | None = None, via: str = "import"
) -> ImportPlan:
    """Create and change the accounts of ``rows`` — all of them, or none when any row has
    a problem (``account.import_invalid``; the plan's problems say which)."""
    with transaction.atomic():
        plan = check_import(actor, rows, lock=True)
        if not plan.valid:
            error = AccountError(
                _("Tệp có %(count)s lỗi; không tài khoản nào được ghi."),
                code="account.import_invalid",
                count=len(plan.problems),
            )
            error.plan = plan
            raise error
        for row in plan.rows:
            if row.action == "create":
                plan.issued.append(
                    create_account(
                        actor,
                        username=row.username,
                        full_name=row.full_name,
                        email=row.email,
                        unit=row.unit,
                        role=row.role,
                        site_url=site_url,
                        via=via,
                    )
                )
            elif row.action == "change":
                account = User.objects.get(username=row.username)
                update_account(
                    actor,
                    account.pk,
                    version=account.version,
                    full_name=row.full_name,
                    email=row.email,
                    unit=row.unit,
                    role=row.role,
                    position=account.position,
                    via=via,
                )
        audit(
            "account.imported",
            actor=actor,
            unit=getattr(actor, "unit", None),
            created=plan.count("create"),
            changed=plan.count("change"),
            unchanged=plan.count("same"),
            via=via,
        )
    return plan
