"""The rules of an account's fields — one set for every way an account is written.

The account pages, an imported list (CSV/XLSX) and ``tiendo users add`` all describe an
account as :class:`AccountFields` and check it here, so a username, an email or a unit
refused on one path is refused on every other with the same code and message. A check
returns the :class:`AccountError` (or ``None``) instead of raising it: a page or the
command line shows the first problem, an import lists every problem of every row.

The limits are the database columns' own (``User._meta``): a value the checks accept is
one PostgreSQL stores, not only SQLite (which ignores ``varchar`` lengths).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.importing import _plain
from tiendo.accounts.models import Role, User
from tiendo.core.errors import TiendoError
from tiendo.core.text import nfc
from tiendo.units.models import Unit


def _max_length(name: str) -> int:
    return User._meta.get_field(name).max_length


USERNAME_MAX = _max_length("username")
FULL_NAME_MAX = _max_length("first_name")
EMAIL_MAX = _max_length("email")
POSITION_MAX = _max_length("position")
# the order of the account form's fields: the first problem shown is the topmost one
FIELD_ORDER = ("username", "full_name", "email", "position", "role", "unit")


class AccountError(TiendoError):
    """A refused change to an account; ``field`` names the form field it concerns."""

    code = "account.refused"

    def __init__(self, message=None, *, code: str | None = None, field: str = "", **params):
        self.field = field
        super().__init__(message, code=code, **params)


@dataclass
class AccountFields:
    """One account as a page, a file row or the command line gives it; text in NFC,
    stripped. ``role`` is a :class:`Role` value when valid, else the text as given."""

    username: str = ""
    full_name: str = ""
    email: str = ""
    position: str = ""
    unit: Unit | None = None
    role: str = ""

    def __post_init__(self):
        for name in ("username", "full_name", "email", "position", "role"):
            setattr(self, name, nfc(getattr(self, name)))

    def model_values(self) -> dict:
        """The :class:`User` attributes these fields set (the username aside)."""
        return {
            "first_name": self.full_name,
            "email": self.email,
            "unit": self.unit,
            "role": self.role,
            "position": self.position,
        }


def raise_first(problems) -> None:
    for problem in problems:
        if problem is not None:
            raise problem


# --- text fields ---------------------------------------------------------------------------


def _username_format(username: str) -> AccountError | None:
    if not username:
        return AccountError(
            _("Thiếu tên đăng nhập."), code="account.username_missing", field="username"
        )
    if len(username) > USERNAME_MAX:
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
    return None


def _username_ascii(username: str) -> AccountError | None:
    """Letters without diacritics only: ``đức`` and ``ĐỨC`` are one name on PostgreSQL but
    two on SQLite (whose ``LIKE`` folds ASCII case only), and an NFD ``ễ`` typed on one
    keyboard would never match the NFC one the login form sends."""
    try:
        ASCIIUsernameValidator()(username)
    except ValidationError:
        return AccountError(
            _(
                "Tên đăng nhập “%(username)s” phải viết không dấu: chỉ chữ a–z, số và các "
                "dấu @ . + - _."
            ),
            code="account.username_not_ascii",
            field="username",
            username=username,
        )
    return None


def check_username(username: str, *, exclude_pk=None) -> AccountError | None:
    """A username a new account may take: well formed, ASCII, not taken in any case."""
    problem = _username_format(username) or _username_ascii(username)
    if problem is not None:
        return problem
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


def _check_length(value: str, *, limit: int, field_name: str, label) -> AccountError | None:
    if len(value) > limit:
        return AccountError(
            _("%(label)s dài quá %(limit)s ký tự."),
            code="account.too_long",
            field=field_name,
            label=label,
            limit=limit,
        )
    return None


def check_full_name(full_name: str) -> AccountError | None:
    return _check_length(
        full_name, limit=FULL_NAME_MAX, field_name="full_name", label=_("Họ và tên")
    )


def check_position(position: str) -> AccountError | None:
    return _check_length(position, limit=POSITION_MAX, field_name="position", label=_("Chức vụ"))


def check_email(email: str) -> AccountError | None:
    """Empty, or an address :func:`validate_email` accepts that fits the column."""
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
    # validate_email allows 320 characters, the column holds 254
    return _check_length(email, limit=EMAIL_MAX, field_name="email", label=_("Email"))


# --- role, unit and who asks ---------------------------------------------------------------


def check_role_for(actor, role: str) -> AccountError | None:
    """A role that exists and that ``actor`` may give (``None``: the command line)."""
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


def check_unit_for(actor, unit: Unit | None, role: str) -> AccountError | None:
    """A unit ``actor`` may put an account with ``role`` in. A unit of the tree before the
    2025 reform is one too: a province reports its 2021-2025 programmes in the units it had
    (the README's first coordinator is Bắc Kạn's); :func:`unit_from_code` prefers the unit
    in force when a code names two."""
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


def check_own_change(actor, account: User, changed) -> AccountError | None:
    """A coordinator does not move itself to another unit nor change its own role."""
    if actor is None or actor.pk != account.pk or scope.is_admin(actor):
        return None
    if "unit" in changed:
        return AccountError(
            _("Bạn không thể tự chuyển tài khoản của mình sang đơn vị khác."),
            code="account.own_unit",
            field="unit",
        )
    if "role" in changed:
        return AccountError(
            _("Bạn không thể tự đổi vai trò của mình."), code="account.own_role", field="role"
        )
    return None


# --- the whole set -------------------------------------------------------------------------


def changes_of(account: User, fields: AccountFields) -> dict:
    """``{attribute: (old, new)}`` of what ``fields`` change on ``account`` (units by code)."""
    return {
        name: (_shown(name, getattr(account, name)), _shown(name, value))
        for name, value in fields.model_values().items()
        if getattr(account, name) != value
    }


def _shown(name: str, value):
    if name == "unit":
        return value.code if value is not None else ""
    return value


def text_problems(fields: AccountFields, *, new: bool) -> list[AccountError]:
    """The fields that need no one's rights: the username (of a new account), the name,
    the email and the position."""
    checks = [
        check_username(fields.username) if new else None,
        check_full_name(fields.full_name),
        check_email(fields.email),
        check_position(fields.position),
    ]
    return [problem for problem in checks if problem is not None]


def assignment_problems(actor, fields: AccountFields, account: User | None = None) -> list:
    """The role and the unit, for a new account (``account`` is ``None``) or when they
    change on ``account``: its owner does not change them (unless administrator), the role
    is one ``actor`` gives, the unit one ``actor`` manages."""
    if account is not None:
        changed = changes_of(account, fields).keys() & {"unit", "role"}
        if not changed:
            return []
        own = check_own_change(actor, account, changed)
        if own is not None:
            return [own]
    problems = [check_role_for(actor, fields.role)]
    if fields.role in Role.values:  # the unit's rule depends on the role
        problems.append(check_unit_for(actor, fields.unit, fields.role))
    return [problem for problem in problems if problem is not None]


def field_problems(actor, fields: AccountFields, account: User | None = None) -> list:
    """Every problem of ``fields``, in the order of the form's fields."""
    return [
        *text_problems(fields, new=account is None),
        *assignment_problems(actor, fields, account),
    ]


# --- what a person types for a unit or a role ----------------------------------------------


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


def unit_for_code(code: str) -> Unit | None:
    """The unit a person typed the code of (``None`` for no code); an unknown code is an
    :class:`AccountError` on the unit field."""
    code = nfc(code)
    if not code:
        return None
    unit = unit_from_code(code)
    if unit is None:
        raise AccountError(
            _("Không có đơn vị nào mang mã “%(unit_code)s”."),
            code="account.unknown_unit",
            field="unit",
            unit_code=code,
        )
    return unit


def role_from_text(text: str) -> str | None:
    """A role by its code (``coordinator``) or its Vietnamese name (``Văn phòng điều phối``)."""
    wanted = _plain(text)
    with translation.override("vi"):
        for role in Role:
            if wanted in (_plain(role.value), _plain(str(role.label))):
                return role.value
    return None
