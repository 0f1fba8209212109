"""The page where a user makes, sees and revokes their own API tokens.

A new token's secret is shown in the answer to the POST that made it, once: it is in no
URL, no session and no log, and the database keeps only its digest.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tiendo.accounts.models import Role
from tiendo.api import tokens
from tiendo.api.models import Token

LIFETIMES = [
    (30, _("30 ngày")),
    (90, _("90 ngày")),
    (180, _("180 ngày")),
    (365, _("365 ngày")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Tên gợi nhớ"),
        max_length=tokens.MAX_NAME,
        help_text=_("Ví dụ: Hệ thống báo cáo của Bộ Nông nghiệp và Môi trường"),
    )
    lifetime = forms.TypedChoiceField(
        label=_("Thời hạn"), choices=LIFETIMES, coerce=int, initial=90
    )
    read_only = forms.BooleanField(
        label=_("Chỉ đọc (không được ghi số liệu)"), required=False, initial=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.role == Role.LEADER:
            # a leader reads only: their tokens too
            self.fields["read_only"].disabled = True


@login_required
def token_list(request):
    user = request.user
    issued = None
    if request.method == "POST":
        form = TokenForm(request.POST, user=user)
        if form.is_valid():
            issued = tokens.issue(
                user,
                form.cleaned_data["name"],
                read_only=form.cleaned_data["read_only"] or user.role == Role.LEADER,
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["lifetime"]),
            )
            form = TokenForm(user=user)
    else:
        form = TokenForm(user=user)
    context = {
        "form": form,
        "issued": issued,
        "tokens": Token.objects.filter(user=user),
        "now": timezone.now(),
    }
    response = render(request, "api/tokens.html", context)
    if issued is not None:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    if tokens.revoke(request.user, pk):
        messages.success(request, _("Đã thu hồi mã truy cập."))
    else:
        messages.error(request, _("Không có mã truy cập này, hoặc mã đã bị thu hồi."))
    return redirect("api:tokens")
