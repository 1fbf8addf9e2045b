from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own password change would not be journaled: use the site's.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("integrity/", include("integrity.urls")),
    path("trail/", include("trail.urls")),
    path("documents/", include("documents.urls")),
    path("account/", include("accounts.urls")),
    path("", include("accounts.urls_signin")),
    path("", include("workflows.urls")),
]
