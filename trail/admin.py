from django.contrib import admin

from .models import Checkpoint, Event


class ActingUserMixin:
    """Tells the admin's form who is acting (`acting_user`), so the form can refuse what
    the service would refuse for that person, with the error on the form."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only services may write (the journal, projects, certificates)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "kind", "object_type", "object_id")
    list_filter = ("kind",)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("seq", "hash", "made_at", "key_id")
