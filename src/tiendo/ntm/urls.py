from django.urls import path

from tiendo.ntm import views, views_agency, views_entry

app_name = "ntm"

urlpatterns = [
    # the pages (matrix, progress, scorecard: tiendo.ntm.views)
    path("bang-tieu-chi/", views.matrix, name="matrix"),
    path("bang-tieu-chi/excel/", views.matrix_export, name="matrix_export"),
    path("tien-do/", views.progress, name="progress"),
    path("don-vi/<int:pk>/", views.scorecard, name="scorecard"),
    # entry (tiendo.ntm.views_entry)
    path("danh-gia/<str:code>/<int:unit>/<int:year>/", views_entry.entry, name="entry"),
    path(
        "cong-nhan/<str:code>/<int:unit>/<int:year>/",
        views_entry.recognition,
        name="recognition",
    ),
    path(
        "bieu-tong-hop/<str:code>/<int:unit>/<int:year>/tai-xuong/",
        views_entry.sheet_download,
        name="sheet_download",
    ),
    path(
        "bieu-tong-hop/<str:code>/<int:unit>/<int:year>/tai-len/",
        views_entry.sheet_upload,
        name="sheet_upload",
    ),
    # agencies (tiendo.ntm.views_agency)
    path("co-quan/<int:pk>/", views_agency.agency_tasks, name="agency_tasks"),
    path("xa/<int:pk>/do-dau/", views_agency.commune_sponsors, name="commune_sponsors"),
    path("phan-cong/<int:pk>/ket-thuc/", views_agency.assignment_end, name="assignment_end"),
    path("do-dau/<int:pk>/ket-thuc/", views_agency.sponsorship_end, name="sponsorship_end"),
]
