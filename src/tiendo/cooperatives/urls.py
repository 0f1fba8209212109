from django.urls import path

from tiendo.cooperatives import views

app_name = "cooperatives"

urlpatterns = [
    path("", views.cooperative_list, name="list"),
    path("excel/", views.cooperative_export, name="export"),
    path("them/", views.cooperative_create, name="create"),
    path("<int:pk>/", views.cooperative_detail, name="detail"),
    path("<int:pk>/sua/", views.cooperative_edit, name="edit"),
    path("<int:pk>/ho-tro/", views.support_add, name="support_add"),
    path("<int:pk>/ho-tro/<int:support>/xoa/", views.support_remove, name="support_remove"),
    path("ocop/", views.product_list, name="products"),
    path("ocop/excel/", views.product_export, name="product_export"),
    path("ocop/them/", views.product_create, name="product_create"),
    path("ocop/<int:pk>/", views.product_detail, name="product"),
    path("ocop/<int:pk>/sua/", views.product_edit, name="product_edit"),
]
