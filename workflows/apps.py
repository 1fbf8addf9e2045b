from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_task_permissions(sender, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import Role, ensure_role_groups

    ensure_role_groups()
    # (app, codename): staff publish calls in the admin, the integrity officer keeps the
    # register there; tasks are offered to whoever holds the task permission.
    grants = {
        Role.STAFF: [
            ("workflows", "staff_task"),
            ("funding", "add_call"),
            ("funding", "change_call"),
            ("funding", "view_call"),
            ("funding", "view_project"),
            ("oversight", "view_certificate"),
            # The expert pool (issue 7): profiles through funding.expert_profiles.
            ("funding", "add_expertprofile"),
            ("funding", "change_expertprofile"),
            ("funding", "view_expertprofile"),
            ("funding", "add_expertrelation"),
            ("funding", "change_expertrelation"),
            ("funding", "delete_expertrelation"),
            ("funding", "view_expertrelation"),
            ("funding", "view_reviewdraw"),
            # Identities are corrected in the admin, through accounts.services, with a reason.
            ("accounts", "view_user"),
            ("accounts", "change_user"),
            ("accounts", "add_user"),
            ("accounts", "view_organisation"),
            ("accounts", "change_organisation"),
            ("accounts", "add_organisation"),
        ],
        Role.LEADER: [("workflows", "leader_task"), ("funding", "view_project")],
        Role.INTEGRITY: [
            ("integrity", "add_sanction"),
            ("integrity", "change_sanction"),
            ("integrity", "view_sanction"),
            ("integrity", "view_vetocheck"),
            ("integrity", "view_vetooverride"),
        ],
    }
    for role, perms in grants.items():
        group = Group.objects.get(name=role.value)
        for app_label, codename in perms:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission:
                group.permissions.add(permission)


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from . import subscribers  # noqa: F401  (connects the signal receivers)

        post_migrate.connect(_grant_task_permissions, sender=self)
