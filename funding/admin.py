"""Staff publish calls here. Projects are read-only: only the lifecycle changes them."""

from django.contrib import admin

from .models import Call, Project


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("title", "program", "opens_on", "closes_on", "funding_cap")
    search_fields = ("title", "program")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("title", "applicant_org", "pi", "status", "requested_amount")
    list_filter = ("status", "call")
    search_fields = ("title",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
