from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from ops.health import ReadinessView, liveness

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Probes for the proxy and orchestrator: no sign-in, only ok or failing (ops.health).
    path("health/", liveness, name="health"),
    path("ready/", ReadinessView.as_view(), name="ready"),
    # The admin's own password change would not be journaled: use the site's.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("integrity/", include("integrity.urls")),
    path("trail/", include("trail.urls")),
    path("notifications/", include("notifications.urls")),
    path("workplan/", include("workplan.urls")),
    path("documents/", include("documents.urls")),
    path("account/", include("accounts.urls")),
    path("", include("accounts.urls_signin")),
    path("", include("oversight.urls")),
    path("", include("workflows.urls")),
]
