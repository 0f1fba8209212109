from django.urls import path

from tiendo.data import views, views_validation

app_name = "data"

urlpatterns = [
    path("", views.entry, name="entry"),
    path("kiem-tra/", views_validation.violations, name="validation"),
    path("kiem-tra/giai-trinh/", views_validation.resolve, name="validation_resolve"),
]
