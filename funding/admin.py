"""Staff publish calls here. Projects are read-only: only the lifecycle changes them."""

from django.contrib import admin

from trail.admin import ReadOnlyAdmin

from .models import Call, Project


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("title", "program", "opens_on", "closes_on", "funding_cap")
    search_fields = ("title", "program")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "applicant_org", "pi", "status", "requested_amount")
    list_filter = ("status", "call")
    search_fields = ("title",)
