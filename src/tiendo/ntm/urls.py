from django.urls import path  # noqa: F401  (each block below adds its routes)

app_name = "ntm"

urlpatterns: list = []

# --- pages ---
# --- end pages ---

# --- assess ---
# --- end assess ---

# --- agency ---
from tiendo.ntm import views_agency  # noqa: E402

urlpatterns += [
    path("co-quan/<int:pk>/", views_agency.agency_tasks, name="agency_tasks"),
    path("xa/<int:pk>/do-dau/", views_agency.commune_sponsors, name="commune_sponsors"),
    path("phan-cong/<int:pk>/ket-thuc/", views_agency.assignment_end, name="assignment_end"),
    path("do-dau/<int:pk>/ket-thuc/", views_agency.sponsorship_end, name="sponsorship_end"),
]
# --- end agency ---
