from django.contrib import admin

from trail.admin import ReadOnlyAdmin

from .models import Certificate


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("serial", "project", "status", "issued_at", "sha256")
    search_fields = ("serial",)
    exclude = ("pdf",)
