from django.urls import path

from tiendo.analytics import views

app_name = "analytics"

urlpatterns = [
    path("phan-tich/", views.explorer_page, name="explorer"),
    path("chuong-trinh/<str:code>/", views.programme_detail, name="programme"),
    path("chuong-trinh/<str:code>/phan-ra/", views.programme_drill, name="drill"),
]
