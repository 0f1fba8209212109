"""Personal access tokens: how a ministry system signs its calls as one of our users.

Only a SHA-256 digest of the token is stored: the token is 32 random bytes, so a digest
cannot be reversed by guessing, and a stolen database holds nothing that opens the API.
The token itself is shown once, on the page that creates it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Token(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("người dùng"),
    )
    name = models.CharField(_("tên"), max_length=100)
    # hex SHA-256 of the whole token string (prefix included)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # the first characters of the token, so that its owner recognises it in the list
    hint = models.CharField(max_length=12, editable=False)
    read_only = models.BooleanField(_("chỉ đọc"), default=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), null=True, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dùng lần cuối"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã truy cập API")
        verbose_name_plural = _("mã truy cập API")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()
