"""The list of programmes. A programme's own page reads values: it is in ``tiendo.analytics``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from tiendo.programmes.access import programmes_seen_by


@login_required
def programme_list(request):
    programmes = (
        programmes_seen_by(request.user)
        .select_related("owner")
        .annotate(indicator_count=Count("indicators", distinct=True))
        .order_by("code")
    )
    return render(request, "programmes/programme_list.html", {"programmes": programmes})
