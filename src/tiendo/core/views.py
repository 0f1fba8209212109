from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tiendo.programmes.models import Programme


@login_required
def home(request):
    return render(request, "core/home.html", {"programmes": Programme.objects.all()})
