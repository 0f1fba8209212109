from django.urls import path

from tiendo.organisation import change_views, views

# The URL names stay "units:…": links and tests name the unit pages, not the app.
app_name = "units"

urlpatterns = [
    path("", views.unit_list, name="list"),
    path("<int:pk>/", views.unit_detail, name="detail"),
    path("<int:pk>/truc-thuoc/", views.unit_children, name="children"),
    path("<int:pk>/lich-su/", views.unit_history, name="history"),
    path("<int:pk>/ghi-thay-doi/", change_views.change_record, name="change_record"),
    path("<int:pk>/them-co-quan/", views.agency_create, name="agency_create"),
    path("<int:pk>/ty-le-phan-bo/", views.shares_edit, name="shares_edit"),
]
