from django.urls import path

from . import views

urlpatterns = [
    path("", views.centre, name="notifications"),
    path("read-all/", views.read_all, name="notifications-read-all"),
    path("settings/", views.email_settings, name="notification-settings"),
    path("<int:pk>/", views.open_notification, name="notification-open"),
]
