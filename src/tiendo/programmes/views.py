"""The list of programmes. A programme's own page reads values: it is in ``tiendo.analytics``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from tiendo.programmes.models import Programme


@login_required
def programme_list(request):
    programmes = (
        Programme.objects.select_related("owner")
        .annotate(indicator_count=Count("indicators", distinct=True))
        .order_by("code")
    )
    return render(request, "programmes/programme_list.html", {"programmes": programmes})
