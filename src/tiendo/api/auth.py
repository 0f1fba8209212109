"""Who calls: a personal access token (``Authorization: Bearer tdo_…``) or, for the site's
own pages, the Django session.

A request that carries an ``Authorization`` header is judged by its token alone — a bad
token is a 401 even if the browser also has a session — so a machine never acts under
someone's session by accident. A read-only token may only read: any other method is a 403
before the operation runs. The session keeps ninja's CSRF check for unsafe methods.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from tiendo.api import tokens
from tiendo.api.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    def __call__(self, request):
        header = request.headers.get(self.header)
        if header is not None and not header.lower().startswith("bearer "):
            raise tokens.TokenRefused(
                _("Tiêu đề Authorization phải có dạng “Bearer <mã truy cập>”."),
                code="token.invalid",
            )
        return super().__call__(request)

    def authenticate(self, request, token: str):
        found = tokens.authenticate(token.strip())
        if found.read_only and request.method not in SAFE_METHODS:
            raise ApiError(
                403,
                "token.read_only",
                _("Mã truy cập này chỉ được đọc dữ liệu, không được ghi."),
            )
        request.user = found.user
        request.api_token = found
        return found.user
