from django.urls import path  # noqa: F401  (each block below adds its routes)

app_name = "ntm"

urlpatterns: list = []

# --- pages ---
# --- end pages ---

# --- assess ---
from tiendo.ntm import views_entry  # noqa: E402

urlpatterns += [
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
]
# --- end assess ---

# --- agency ---
# --- end agency ---
