from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tiendo.accounts import scope
from tiendo.core.forms import LoginForm
from tiendo.programmes.models import Programme


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    user = request.user
    unit = user.unit
    if unit is not None:
        scope.check_unit(user, unit)
    return render(
        request,
        "core/home.html",
        {
            "unit": unit,
            "programmes": Programme.objects.order_by("code"),
            # a leader's account reads only; say so instead of offering data entry
            "read_only": unit is not None and not scope.can_write(user, unit),
        },
    )
