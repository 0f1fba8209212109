from django.urls import path

from tiendo.programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.programme_list, name="list"),
    path("<str:code>/", views.programme_detail, name="detail"),
    path("<str:code>/phan-ra/", views.programme_drill, name="drill"),
]
