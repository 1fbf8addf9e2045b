from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_task_permissions(sender, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import Role, ensure_role_groups

    ensure_role_groups()
    grants = {Role.STAFF: "staff_task", Role.LEADER: "leader_task"}
    for role, codename in grants.items():
        permission = Permission.objects.filter(
            content_type__app_label="workflows", codename=codename
        ).first()
        if permission:
            Group.objects.get(name=role.value).permissions.add(permission)


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        post_migrate.connect(_grant_task_permissions, sender=self)
