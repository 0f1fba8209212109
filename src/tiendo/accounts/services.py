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
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.fields import (
    FIELD_ORDER,
    AccountError,
    AccountFields,
    assignment_problems,
    changes_of,
    check_username,
    field_problems,
    raise_first,
    role_from_text,
    text_problems,
    unit_for_code,
)
from tiendo.accounts.models import Role, User
from tiendo.core.audit import audit
from tiendo.core.text import nfc
from tiendo.units.models import Unit

log = logging.getLogger(__name__)

# what an account page may change, with the name the audit log gives each field
EDITABLE_FIELDS = ("first_name", "email", "unit", "role", "position")
# a one-time password: 4 groups of 4 from 31 unambiguous characters (about 79 bits)
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ2345679"


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
# The rules of the fields themselves (username, email, role, unit...) are in
# :mod:`tiendo.accounts.fields`, shared by every path below.


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
    fields = AccountFields(username, full_name, email, position, unit, role)
    raise_first(field_problems(actor, fields))
    account = User(username=fields.username, **fields.model_values())
    if password is not None:
        _check_password(password, account)
    with transaction.atomic():
        # the unit row is locked so that it cannot be removed under the new account
        if unit is not None:
            Unit.objects.select_for_update().get(pk=unit.pk)
        _save_new(account)
        issued = _issue_password(account, site_url=site_url, password=password)
        audit(
            "account.created",
            actor=actor,
            unit=unit,
            obj=account,
            username=account.username,
            role=account.role,
            unit_code=unit.code if unit else "",
            email=account.email,
            full_name=account.first_name,
            password="emailed" if issued.emailed_to else "set" if password else "one_time",
            via=via,
        )
    return issued


def _check_password(password: str, account: User) -> None:
    try:
        validate_password(password, account)
    except ValidationError as exc:
        raise AccountError(
            _("Mật khẩu không dùng được: %(reasons)s"),
            code="account.weak_password",
            field="password",
            reasons=" ".join(exc.messages),
        ) from exc


def _save_new(account: User) -> None:
    """Save a new account whose username may have been taken since it was checked."""
    raise_first([check_username(account.username)])
    account.set_unusable_password()
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # the same username saved a moment ago by someone else
        raise check_username(account.username) or AccountError(
            code="account.username_taken"
        ) from None


def _locked(pk) -> User:
    try:
        # of self only: PostgreSQL locks no row of the outer join to a unit that may be null
        return User.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
    except User.DoesNotExist:
        raise AccountError(_("Không tìm thấy tài khoản."), code="account.not_found") from None


def _check_version(account: User, version: int) -> None:
    if account.version != version:
        raise AccountError(
            _(
                "Tài khoản “%(username)s” vừa được người khác sửa sau khi bạn mở trang; "
                "xin mở lại trang để xem thay đổi rồi sửa lại."
            ),
            code="account.stale",
            username=account.username,
        )


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
    fields = AccountFields("", full_name, email, position, unit, role)
    raise_first(text_problems(fields, new=False))
    with transaction.atomic():
        account = _locked(pk)
        _check_account(actor, account)
        _check_version(account, version)
        changes = changes_of(account, fields)
        if not changes:
            return {}
        raise_first(assignment_problems(actor, fields, account))
        for name, value in fields.model_values().items():
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
    code: str = ""  # the refusal's code, as the pages' and the command line's


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


# the file's column of each of AccountFields' fields
_COLUMN_OF = {
    "username": "username",
    "full_name": "full_name",
    "email": "email",
    "role": "role",
    "unit": "unit_code",
}


def check_import(actor, rows: list[dict], *, lock: bool = False) -> ImportPlan:
    """What importing ``rows`` (from :func:`tiendo.accounts.importing.read_rows`) would do,
    and every problem by line and column. Writes nothing.

    Each row is checked by the rules of the account pages (:mod:`tiendo.accounts.fields`):
    a new username as on the creation page, an existing account as on its edit page."""
    from tiendo.accounts.importing import COLUMN_LABELS

    _check_manager(actor)
    plan = ImportPlan([], [])
    existing = _existing_accounts(rows, lock=lock)
    first_line: dict[str, int] = {}  # lower-case username: the line it first appears on
    for row in rows:
        username = nfc(row.get("username"))
        account = existing.get(username.lower()) if username else None
        item, problems = _check_row(actor, row, account)
        if username.lower() in first_line:
            problems.insert(0, _duplicate(username, first_line[username.lower()]))
        elif username:
            first_line[username.lower()] = row["line"]
        for problem in problems:
            column = COLUMN_LABELS.get(_COLUMN_OF.get(problem.field, ""), "")
            plan.problems.append(
                ImportProblem(row["line"], str(column), str(problem), problem.code)
            )
        if not problems:
            plan.rows.append(item)
    return plan


def _existing_accounts(rows: list[dict], *, lock: bool) -> dict[str, User]:
    """The accounts the rows name, by lower-case username (matched without case)."""
    names = {nfc(r.get("username")) for r in rows} - {""}
    found = User.objects.select_related("unit").filter(username__in=names)
    if lock:
        found = found.select_for_update(of=("self",))
    existing = {u.username.lower(): u for u in found}
    # case-insensitive matches the exact filter above missed
    for name in sorted(names):
        if name.lower() not in existing:
            other = User.objects.filter(username__iexact=name).first()
            if other is not None:
                existing[name.lower()] = other
    return existing


def _duplicate(username: str, line: int) -> AccountError:
    return AccountError(
        _("Tên đăng nhập “%(username)s” đã có ở dòng %(line)s của tệp."),
        code="account.import_duplicate",
        field="username",
        username=username,
        line=line,
    )


def _check_row(actor, row: dict, account: User | None) -> tuple[ImportRow | None, list]:
    """The row's effect on ``account`` (``None``: a new one) and its problems."""
    fields, problems = _row_fields(row, account)
    if account is not None and actor is not None and not scope.may_manage_account(actor, account):
        # nothing more is said of an account the actor may not see
        return None, _in_form_order([*problems, _not_yours(account)])
    unreadable = {problem.field for problem in problems}
    problems += [p for p in field_problems(actor, fields, account) if p.field not in unreadable]
    item = ImportRow(
        row["line"], fields.username, fields.full_name, fields.email, fields.unit, fields.role
    )
    if account is not None:
        item.username = account.username
        item.changes = changes_of(account, fields)
        item.action = "change" if item.changes else "same"
    return item, _in_form_order(problems)


def _in_form_order(problems: list) -> list:
    return sorted(
        problems, key=lambda p: FIELD_ORDER.index(p.field) if p.field in FIELD_ORDER else 0
    )


def _not_yours(account: User) -> AccountError:
    return AccountError(
        _("Tài khoản “%(username)s” đã có và nằm ngoài phạm vi bạn quản lý."),
        code="account.out_of_scope",
        field="username",
        username=account.username,
    )


def _row_fields(row: dict, account: User | None) -> tuple[AccountFields, list]:
    """The row as :class:`AccountFields`, and the unit code it names that names no unit.

    A column the file does not have leaves an existing account's value as it is; the
    position is never in a file."""

    def text(key, attr):
        if row.get(key) is None and account is not None:
            return getattr(account, attr)
        return row.get(key)

    role_text = nfc(row.get("role"))
    fields = AccountFields(
        username=row.get("username"),
        full_name=text("full_name", "first_name"),
        email=text("email", "email"),
        position=account.position if account is not None else "",
        role=role_from_text(role_text) or role_text,
    )
    try:
        fields.unit = unit_for_code(row.get("unit_code"))
    except AccountError as error:
        return fields, [error]
    return fields, []


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
            issued = _write_row(actor, row, site_url=site_url, via=via)
            if issued is not None:
                plan.issued.append(issued)
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


def _write_row(actor, row: ImportRow, *, site_url, via) -> PasswordIssued | None:
    if row.action == "create":
        return create_account(
            actor,
            username=row.username,
            full_name=row.full_name,
            email=row.email,
            unit=row.unit,
            role=row.role,
            site_url=site_url,
            via=via,
        )
    if row.action == "change":
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
    return None
