from django.urls import path

from tiendo.households import views_import

app_name = "households"

urlpatterns: list = [
    path("nhap-excel/<int:unit_id>/", views_import.import_form, name="import"),
    path("nhap-excel/<int:unit_id>/mau.xlsx", views_import.import_template, name="import_template"),
    path("nhap-excel/viec/<int:job_id>/", views_import.import_job, name="import_job"),
    path("nhap-excel/viec/<int:job_id>/ket-qua/", views_import.import_result, name="import_result"),
    path("nhap-excel/viec/<int:job_id>/nhap/", views_import.import_confirm, name="import_confirm"),
]
