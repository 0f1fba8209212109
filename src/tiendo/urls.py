from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from tiendo.analytics import views as analytics_views
from tiendo.api.endpoints import api
from tiendo.core import views as core_views

urlpatterns = [
    path("", analytics_views.home, name="home"),
    path("dang-nhap/", core_views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("ngon-ngu/", set_language, name="set_language"),
    path("don-vi/", include("tiendo.organisation.urls")),
    path("chuong-trinh/", include("tiendo.programmes.urls")),
    path("", include("tiendo.analytics.urls")),
    path("nhap-so-lieu/", include("tiendo.data.urls")),
    path("bao-cao/", include("tiendo.reporting.urls")),
    path("nong-thon-moi/", include("tiendo.ntm.urls")),
    path("ho-gia-dinh/", include("tiendo.households.urls")),
    path("hop-tac-xa/", include("tiendo.cooperatives.urls")),
    path("van-ban-bao-cao/", include("tiendo.documents.urls")),
    path("tai-khoan/", include("tiendo.accounts.urls")),
    path("thong-bao/", include("tiendo.core.urls")),
    path("api/v1/", api.urls),
    path("api/", include("tiendo.api.urls")),
    path("quan-tri-he-thong/", admin.site.urls),
]
