from django.urls import path

from tiendo.households import views_drill

app_name = "households"

urlpatterns: list = [
    path(
        "chi-tieu/<str:indicator_code>/<int:unit_id>/<str:period>/",
        views_drill.drill,
        name="drill",
    ),
]
