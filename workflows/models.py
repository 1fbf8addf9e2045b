from django.db import models
from viewflow.workflow.models import Process

from funding.models import Project


class ProjectProcess(Process):
    """The viewflow process that hands a project's steps to people's inboxes."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="process")

    class Meta:
        verbose_name = "project process"
        permissions = [
            ("staff_task", "Can take bureau staff tasks"),
            ("leader_task", "Can take leadership tasks"),
        ]
