from django.urls import path  # noqa: F401  (each block below adds its routes)

app_name = "ntm"

urlpatterns: list = []

# --- pages ---
# --- end pages ---

# --- assess ---
# --- end assess ---

# --- agency ---
# --- end agency ---
