from django.urls import path

from tiendo.core import notifications

app_name = "core"

urlpatterns = [
    path("", notifications.inbox, name="notifications"),
    path("<int:pk>/mo/", notifications.open_notification, name="notification_open"),
    path("doc-het/", notifications.read_all, name="notifications_read_all"),
]
