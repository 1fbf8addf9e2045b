"""A sanction taking effect suspends the subject's running projects (DESIGN §4)."""

import pytest

from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sanction_in_force_suspends_running_projects_and_stops_disbursement():
    town = demo.create_county()
    running = demo.advance(
        town, demo.draft_project(town, "vetoed", "执行中的项目", "300000"), S.IN_PROGRESS
    )
    draft = demo.draft_project(town, "vetoed", "草稿项目", "300000")
    other = demo.advance(
        town, demo.draft_project(town, "applicant", "他人项目", "300000"), S.IN_PROGRESS
    )

    demo.sanction_person(town.users["vetoed"], town.users["integrity"])

    running.refresh_from_db()
    draft.refresh_from_db()
    other.refresh_from_db()
    assert running.status == S.SUSPENDED
    assert draft.status == S.DRAFT and other.status == S.IN_PROGRESS
    event = history_of(running).filter(kind=EventKind.PROJECT_TRANSITION).last()
    assert event.actor_name == "system" and "示科信〔2026〕3号" in event.data["reason"]
