"""axes' attempt records in the admin: deleting one unlocks, so it is journaled too."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin

from .forms_security import AdminSignInForm
from .lockouts import journal_removed_attempts

# The admin's sign-in checks the name's length like the site's (see AdminSignInForm).
admin.site.login_form = AdminSignInForm


class JournaledAccessAttemptAdmin(AccessAttemptAdmin):
    def delete_model(self, request, obj):
        journal_removed_attempts([obj], by=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        journal_removed_attempts(list(queryset), by=request.user)
        super().delete_queryset(request, queryset)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, JournaledAccessAttemptAdmin)
