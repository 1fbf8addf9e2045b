"""A read API over what the signed-in user may see, with its OpenAPI schema."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from funding.models import Project
from oversight.access import projects_visible_to


class ProjectSerializer(serializers.ModelSerializer):
    applicant_org = serializers.StringRelatedField()
    pi = serializers.StringRelatedField()

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "field",
            "status",
            "applicant_org",
            "pi",
            "requested_amount",
            "approved_amount",
            "disbursed_total",
            "start_date",
            "end_date",
        ]
        read_only_fields = fields


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return projects_visible_to(self.request.user).select_related("applicant_org", "pi")


router = SimpleRouter()
router.register("api/projects", ProjectViewSet, basename="api-project")
urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    *router.urls,
]
