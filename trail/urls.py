from django.urls import path

from . import views

urlpatterns = [
    path("checkpoints/", views.checkpoint_list, name="trail-checkpoints"),
    path("checkpoints.json", views.checkpoint_download, name="trail-checkpoints-json"),
]
