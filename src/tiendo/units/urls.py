from django.urls import path

from tiendo.units import views

app_name = "units"

urlpatterns = [
    path("", views.unit_list, name="list"),
    path("<int:pk>/", views.unit_detail, name="detail"),
    path("<int:pk>/truc-thuoc/", views.unit_children, name="children"),
]
