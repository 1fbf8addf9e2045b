from django.contrib import admin

from .models import Sanction, VetoCheck
from .services import record_sanction


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ("subject_name", "subject_id", "severity", "starts_on", "ends_on", "status")
    search_fields = ("subject_name", "subject_id", "decision_no")
    exclude = ("recorded_by",)

    def save_model(self, request, obj, form, change):
        record_sanction(obj, request.user)


@admin.register(VetoCheck)
class VetoCheckAdmin(admin.ModelAdmin):
    list_display = ("gate", "object_type", "object_id", "passed", "checked_by", "checked_at")
    list_filter = ("gate", "passed")
