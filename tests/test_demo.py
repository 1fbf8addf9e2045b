"""`make demo` loads a county with every role, every state, a veto and a certificate."""

import pytest
from django.core.management import call_command

from accounts.roles import Role
from funding.models import Project
from funding.states import ProjectStatus
from oversight.models import Certificate, InspectionDraw
from trail.services import verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_county_covers_the_lifecycle_and_loads_twice(django_user_model):
    call_command("load_demo", verbosity=0)
    states = set(Project.objects.values_list("status", flat=True))
    assert states == set(ProjectStatus.values)
    roles = {
        g for u in django_user_model.objects.all() for g in u.groups.values_list("name", flat=True)
    }
    assert roles == {r.value for r in Role}
    assert Certificate.objects.filter(status=Certificate.Status.ISSUED).exclude(sha256="").exists()
    assert InspectionDraw.objects.exists()
    assert verify_chain() == []

    count = Project.objects.count()
    call_command("load_demo", verbosity=0)  # a second run changes nothing
    assert Project.objects.count() == count
