from django.urls import path

from tiendo.households import views, views_drill, views_import

app_name = "households"

urlpatterns = [
    path("", views.index, name="index"),
    # a unit's register
    path("don-vi/<int:unit_id>/", views.household_list, name="list"),
    path("don-vi/<int:unit_id>/xuat/", views.export_list, name="export_list"),
    path("don-vi/<int:unit_id>/them/", views.household_create, name="create"),
    path("don-vi/<int:unit_id>/dieu-kien/", views.eligibility_failures, name="eligibility"),
    path("don-vi/<int:unit_id>/nhat-ky-xuat/", views.export_audit, name="export_audit"),
    # one household
    path("<int:pk>/", views.household_detail, name="detail"),
    path("<int:pk>/sua/", views.household_edit, name="edit"),
    path("<int:pk>/xoa/", views.household_remove, name="remove"),
    path("<int:pk>/xuat/", views.export_household, name="export_household"),
    path("<int:pk>/ngheo/", views.poverty, name="poverty"),
    path("<int:pk>/vay/<int:record_id>/tra-no/", views.repayment, name="repayment"),
    path("<int:pk>/<slug:kind>/them/", views.record_form, name="record_add"),
    path("<int:pk>/<slug:kind>/<int:record_id>/sua/", views.record_form, name="record_edit"),
    path("<int:pk>/<slug:kind>/<int:record_id>/xoa/", views.record_remove, name="record_remove"),
    # the records behind a register figure
    path(
        "chi-tieu/<str:indicator_code>/<int:unit_id>/<str:period>/",
        views_drill.drill,
        name="drill",
    ),
    # the Excel import of household lists: upload, the dry run's job, result, confirmation
    path("nhap-excel/<int:unit_id>/", views_import.import_form, name="import"),
    path("nhap-excel/<int:unit_id>/mau.xlsx", views_import.import_template, name="import_template"),
    path("nhap-excel/viec/<int:job_id>/", views_import.import_job, name="import_job"),
    path("nhap-excel/viec/<int:job_id>/ket-qua/", views_import.import_result, name="import_result"),
    path("nhap-excel/viec/<int:job_id>/nhap/", views_import.import_confirm, name="import_confirm"),
]
