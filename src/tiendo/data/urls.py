from django.urls import path

from tiendo.data import views

app_name = "data"

urlpatterns = [
    path("", views.entry, name="entry"),
]
