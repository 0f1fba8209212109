from django.urls import path

from tiendo.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("them/", views.account_create, name="create"),
    path("nhap-tu-tep/", views.account_import, name="import"),
    path("<int:pk>/", views.account_edit, name="edit"),
    path("<int:pk>/trang-thai/", views.account_active, name="active"),
    path("<int:pk>/dat-lai-mat-khau/", views.account_reset_password, name="reset_password"),
    path("doi-mat-khau/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "dat-mat-khau/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="reset_confirm",
    ),
    path("dat-mat-khau/xong/", views.PasswordResetDoneView.as_view(), name="reset_done"),
]
