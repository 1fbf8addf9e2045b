"""The two-person override: one action through one gate, a written reason, two people."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck, VetoOverride
from integrity.overrides import approve_override, request_override
from integrity.policy import VetoRefused
from integrity.services import record_sanction
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.django_db


def overridable_sanction(county, user, **terms):
    """较重, projects terminated (终止项目), contracts barred: no ban, so it may be overridden."""
    values = {
        "subject_kind": SubjectKind.PERSON,
        "subject_id": user.id_number,
        "subject_name": user.real_name,
        "severity": Severity.SERIOUS,
        "measures": ["terminate"],
        "gates": [Gate.CONTRACT.value],
        "decision_no": "示科信〔2026〕21号",
        "reason": "未按任务书履约",
        "starts_on": timezone.localdate() - datetime.timedelta(days=5),
        "ends_on": None,
        **terms,
    }
    return record_sanction(Sanction(**values), county.users["integrity"])


@pytest.fixture
def contract_blocked(county):
    """Approved before the sanction; the contract gate now refuses."""
    project = demo.draft_project(county, "applicant2", "合同受阻", "300000")
    project = demo.advance(county, project, S.APPROVED)
    overridable_sanction(county, county.users["applicant2"])
    with pytest.raises(VetoRefused):
        perform(project.pk, "sign_contract", county.users["staff"])
    return project


def test_an_approved_override_lets_one_action_through_once(county, contract_blocked):
    staff, leader = county.users["staff"], county.users["leader"]
    override = request_override(
        contract_blocked, Gate.CONTRACT, blocking(), "县政府专题会议决定继续实施", staff
    )
    with pytest.raises(VetoRefused):  # not yet approved
        perform(contract_blocked.pk, "sign_contract", staff)
    approve_override(override, contract_blocked, leader)

    perform(contract_blocked.pk, "sign_contract", staff)
    contract_blocked.refresh_from_db()
    assert contract_blocked.status == S.CONTRACTED
    check = VetoCheck.objects.filter(overrides=override).get()
    assert check.passed is False  # the record says what the register said
    override.refresh_from_db()
    assert override.status == VetoOverride.Status.USED
    steps = [
        e.data["step"] for e in history_of(contract_blocked).filter(kind=EventKind.VETO_OVERRIDE)
    ]
    assert steps == ["requested", "approved", "used"]


def test_the_second_approval_must_come_from_another_person(county, contract_blocked):
    leader = county.users["leader"]
    leader.groups.add(*county.users["staff"].groups.all())  # a leader who is also staff
    leader._role_names = None
    override = request_override(contract_blocked, Gate.CONTRACT, blocking(), "理由", leader)
    with pytest.raises(PermissionDenied):
        approve_override(override, contract_blocked, leader)
    with pytest.raises(IntegrityError), transaction.atomic():
        VetoOverride.objects.filter(pk=override.pk).update(approved_by=leader)


def test_who_may_ask_and_approve_and_what_they_must_say(county, contract_blocked):
    with pytest.raises(PermissionDenied):
        request_override(
            contract_blocked, Gate.CONTRACT, blocking(), "理由", county.users["applicant2"]
        )
    with pytest.raises(ValidationError):
        request_override(contract_blocked, Gate.CONTRACT, blocking(), "  ", county.users["staff"])
    override = request_override(
        contract_blocked, Gate.CONTRACT, blocking(), "理由", county.users["staff"]
    )
    with pytest.raises(PermissionDenied):
        approve_override(override, contract_blocked, county.users["staff"])  # not leadership


def test_the_project_page_offers_the_override_to_staff_and_approval_to_the_leader(
    client, county, contract_blocked
):
    client.force_login(county.users["staff"])
    client.post(
        reverse("override-ask", args=[contract_blocked.pk]),
        {"gate": "contract", "sanction": blocking().pk, "reason": "专题会议决定"},
    )
    override = VetoOverride.objects.get()
    client.force_login(county.users["leader"])
    page = client.get(reverse("project", args=[contract_blocked.pk])).content.decode()
    assert reverse("override-approve", args=[contract_blocked.pk, override.pk]) in page
    client.post(reverse("override-approve", args=[contract_blocked.pk, override.pk]))
    override.refresh_from_db()
    assert override.status == VetoOverride.Status.APPROVED


def blocking() -> Sanction:
    return Sanction.objects.get(decision_no="示科信〔2026〕21号")
