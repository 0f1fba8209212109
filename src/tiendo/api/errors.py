"""One error body for every refusal of the API: ``{"code": "...", "message": "..."}``.

``code`` is stable ASCII that a client matches on; ``message`` is Vietnamese, or English
when the request asks for it with ``Accept-Language: en`` (a machine has no language
cookie, which is what the site's pages follow). Validation errors of ninja and pydantic
(422 with a list of details by default) become a 400 naming the parameter at fault.
"""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tiendo.core.errors import TiendoError

LANGUAGES = ("vi", "en")


class ApiError(TiendoError):
    """A refusal of the API with its HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, status: int, code: str, message, **params):
        self.status = status
        super().__init__(message, code=code, **params)


def request_language(request) -> str:
    """The language of the answer: the first of ``Accept-Language`` we speak, else vi."""
    header = request.headers.get("Accept-Language", "")
    try:
        wanted = parse_accept_lang_header(header[:200])
    except ValueError:
        wanted = ()
    for language, _quality in wanted:
        base = language.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return "vi"


def in_request_language(run):
    """Decorate an operation's whole run (authentication, validation, errors) so that
    every text it produces is in :func:`request_language`."""

    @functools.wraps(run)
    def wrapper(request, *args, **kwargs):
        with translation.override(request_language(request)):
            response = run(request, *args, **kwargs)
        response.headers["Content-Language"] = request_language(request)
        return response

    return wrapper


def body(code: str, message) -> dict:
    return {"code": code, "message": str(message)}


def _describe(error: dict) -> str:
    """One pydantic error as a Vietnamese phrase naming its parameter."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
    name = ".".join(location) or "?"
    kind = error.get("type", "")
    if kind == "missing":
        return str(_("thiếu tham số “%(name)s”")) % {"name": name}
    if kind.startswith(("date", "datetime")):
        return str(_("“%(name)s” không phải là ngày hợp lệ (yyyy-mm-dd)")) % {"name": name}
    if kind.startswith(("int", "bool")):
        return str(_("“%(name)s” không phải là số hoặc giá trị hợp lệ")) % {"name": name}
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        return str(_("“%(name)s” nằm ngoài giới hạn cho phép")) % {"name": name}
    return str(_("“%(name)s” không hợp lệ")) % {"name": name}


def install(api) -> None:
    """Register the handlers that give every refusal of ``api`` the one body."""

    def respond(request, status: int, code: str, message):
        return api.create_response(request, body(code, message), status=status)

    @api.exception_handler(TiendoError)
    def tiendo_error(request, exc: TiendoError):
        return respond(request, getattr(exc, "status", 400), exc.code, exc)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        parts = [_describe(e) for e in exc.errors[:5]]
        message = _("Tham số không hợp lệ: %(details)s.") % {"details": "; ".join(parts)}
        return respond(request, 400, "parameter.invalid", message)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(
            request,
            401,
            "auth.required",
            _("Cần đăng nhập hoặc gửi mã truy cập (Authorization: Bearer …)."),
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return respond(request, 403, "access.denied", _("Bạn không có quyền truy cập dữ liệu này."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, "not_found", _("Không tìm thấy."))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return respond(
            request, exc.status_code, "request.refused", _("Yêu cầu không thực hiện được.")
        )
