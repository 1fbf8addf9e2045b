"""A read API over what the signed-in user may see, with its OpenAPI schema.

Who may call and how often is set for every view in settings.REST_FRAMEWORK (an API
token or the session, the token's scope, the throttles; accounts.api_auth).
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from accounts.api_auth import HasScope
from accounts.api_tokens import ApiScope
from funding.amounts import AmountSerializerField
from funding.models import Project
from oversight.access import application_withheld_from, projects_visible_to


class CappedPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most max_page_size); a bad page is a 404.

    The page is found among the primary keys alone, then only its rows are read with
    what they show: a page deep in 100,000 projects skips index entries, not joined rows
    (issue 10)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True), request, view)
        if ids is None:
            return None
        by_pk = {row.pk: row for row in queryset.filter(pk__in=ids)}
        return [by_pk[pk] for pk in ids]


class ThrottleFirstMixin:
    """Count a caller before refusing them, so one who is not signed in and keeps
    calling meets the per-address throttle (429) rather than endless 401s."""

    def check_permissions(self, request):
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if getattr(request, "_throttles_checked", False):
            return
        request._throttles_checked = True
        super().check_throttles(request)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait, detail=_("Too many requests to the API."))


class ProjectSerializer(serializers.ModelSerializer):
    applicant_org = serializers.StringRelatedField()
    pi = serializers.StringRelatedField()
    # Read-only today; any amount the API ever takes goes through the same rules as the
    # forms and the import (funding.amounts: two decimals, AMOUNT_MAX, written in full).
    requested_amount = AmountSerializerField(read_only=True)
    approved_amount = AmountSerializerField(read_only=True, allow_null=True)
    disbursed_total = AmountSerializerField(read_only=True)

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

    # An expert sees a project they have not declared no conflict for by title only.
    TITLE_ONLY = ("id", "title", "status")

    def to_representation(self, instance):
        if instance.pk in self.context.get("withheld", ()):
            return {
                name: self.fields[name].to_representation(getattr(instance, name))
                for name in self.TITLE_ONLY
            }
        return super().to_representation(instance)


class ProjectViewSet(ThrottleFirstMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer
    pagination_class = CappedPagination
    required_scope = ApiScope.PROJECTS_READ

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "withheld": self._withheld()}

    def _withheld(self) -> set[int]:
        user = getattr(self.request, "user", None)  # no request while drawing the schema
        return application_withheld_from(user) if user and user.is_authenticated else set()

    def get_queryset(self):
        # The newest first, by the primary key (in the order of creation): its index serves
        # any page at 100,000 projects, where created_at has none to sort by (issue 10).
        # One key, unique: pages never repeat or skip a project.
        return (
            projects_visible_to(self.request.user)
            .select_related("applicant_org", "pi")
            .order_by("-pk")
        )


class SchemaView(ThrottleFirstMixin, SpectacularAPIView):
    """The OpenAPI schema, for signed-in people and tokens with schema:read only."""

    # Stated here, not left to SERVE_PERMISSIONS: the schema maps what there is to read.
    permission_classes = [IsAuthenticated, HasScope]
    required_scope = ApiScope.SCHEMA_READ


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the API token in the schema as a bearer token."""

    target_class = "accounts.api_auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


router = SimpleRouter()
router.register("api/projects", ProjectViewSet, basename="api-project")
urlpatterns = [
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    *router.urls,
]
