from django.urls import path

from tiendo.reporting import views, views_excel

app_name = "reporting"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cong-van/", views.request_list, name="requests"),
    path("cong-van/tao/", views.request_create, name="request_create"),
    path("cong-van/<int:pk>/", views.request_detail, name="request"),
    path("cong-van/<int:pk>/gui/", views.request_send, name="request_send"),
    path("cong-van/<int:pk>/nhac/", views.request_remind, name="request_remind"),
    path("cong-van/<int:pk>/excel/", views.request_export, name="request_export"),
    path("cong-van/<int:pk>/mien/<int:unit_pk>/", views.request_waive, name="request_waive"),
    path("cong-van/<int:pk>/don-vi/<int:unit_pk>/", views.answer, name="answer"),
    path("bao-cao/<int:pk>/", views.submission_page, name="submission"),
    path("bieu-mau/<str:code>/excel/", views_excel.excel_download, name="excel_download"),
    path("bieu-mau/<str:code>/excel/tai-len/", views_excel.excel_upload, name="excel_upload"),
]
