from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from tiendo.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("dang-nhap/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("ngon-ngu/", set_language, name="set_language"),
]
