from django.urls import path

from tiendo.documents import views

app_name = "documents"

urlpatterns = [
    path("", views.report_list, name="reports"),
    path("van-ban/", views.document_list, name="documents"),
    path("van-ban/<int:pk>/", views.document_detail, name="document"),
    path("van-ban/<int:pk>/tai-ve/", views.document_download, name="download"),
    path("mau/", views.template_list, name="templates"),
    path("mau/<int:pk>/tai-ve/", views.template_download, name="template_download"),
    path("mau/bien/", views.variables, name="variables"),
    path("dinh-nghia/moi/", views.definition_new, name="definition_new"),
    path("tu-bao-cao-don-vi/<int:pk>/", views.submission_report, name="from_submission"),
    path("tu-bao-cao-don-vi/<int:pk>/thuyet-minh/", views.answer_texts, name="answer_texts"),
    path("<slug:slug>/", views.report_detail, name="report"),
    path("<slug:slug>/sua/", views.definition_edit, name="definition_edit"),
    path("<slug:slug>/xuat/", views.report_render, name="render"),
]
