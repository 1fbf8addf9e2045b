from django.contrib import admin

from trail.admin import ReadOnlyAdmin

from .models import AcceptancePanel, Certificate, FindingsAnswer, PanelVerdict


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("serial", "project", "status", "issued_at", "sha256")
    search_fields = ("serial",)
    exclude = ("pdf",)


# Acceptance panels (issue 7): written only by oversight.panels; read here.
@admin.register(AcceptancePanel)
class AcceptancePanelAdmin(ReadOnlyAdmin):
    list_display = ("project", "seed", "size", "drawn_by", "drawn_at")
    search_fields = ("project__title", "seed")


@admin.register(PanelVerdict)
class PanelVerdictAdmin(ReadOnlyAdmin):
    list_display = ("panel", "member", "round", "task_passed", "finance_passed", "recorded_at")


@admin.register(FindingsAnswer)
class FindingsAnswerAdmin(ReadOnlyAdmin):
    list_display = ("engagement", "answered_by", "answered_at")
