from django.urls import path  # noqa: F401  (each block below adds its routes)

app_name = "ntm"

urlpatterns: list = []

# --- pages ---
from tiendo.ntm import views  # noqa: E402

urlpatterns += [
    path("bang-tieu-chi/", views.matrix, name="matrix"),
    path("bang-tieu-chi/excel/", views.matrix_export, name="matrix_export"),
    path("tien-do/", views.progress, name="progress"),
    path("don-vi/<int:pk>/", views.scorecard, name="scorecard"),
]
# --- end pages ---

# --- assess ---
# --- end assess ---

# --- agency ---
# --- end agency ---
