"""Oversight's pages: the lists of issue 11. Mounted at the site's root."""

from django.urls import path

from .lists import projects

urlpatterns = [
    path("projects/", projects.project_list, name="projects"),
]
