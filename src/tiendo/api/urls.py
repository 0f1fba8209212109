from django.urls import path

from tiendo.api import views

app_name = "api"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/thu-hoi/", views.token_revoke, name="token_revoke"),
]
