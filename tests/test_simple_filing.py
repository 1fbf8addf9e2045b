"""结题备案: a project funded with at most 50,000 yuan is accepted on its file."""

import pytest
from django.core.exceptions import ValidationError

from funding.states import ProjectStatus as S
from oversight.models import AcceptanceReview
from workflows import demo
from workflows.actions import perform
from workflows.lifecycle import TransitionRefused

pytestmark = pytest.mark.django_db


def requested(county, amount):
    project = demo.draft_project(county, "applicant", f"{amount}元项目", amount)
    return demo.advance(county, project, S.ACCEPTANCE_REQUESTED)


def test_a_small_project_is_accepted_by_filing_without_a_panel(county):
    project = requested(county, "50000")
    perform(project.pk, "accept_by_filing", county.users["staff"], reason="材料齐全，备案。")
    project.refresh_from_db()
    assert project.status == S.ACCEPTED
    assert not AcceptanceReview.objects.filter(project=project).exists()


def test_a_larger_project_cannot_be_filed(county):
    project = requested(county, "60000")
    with pytest.raises(TransitionRefused, match="50,000"):
        perform(project.pk, "accept_by_filing", county.users["staff"], reason="备案")
    project.refresh_from_db()
    assert project.status == S.ACCEPTANCE_REQUESTED


def test_filing_needs_a_note(county):
    project = requested(county, "40000")
    with pytest.raises(ValidationError):
        perform(project.pk, "accept_by_filing", county.users["staff"], reason=" ")
