"""双随机、一公开: a seeded draw anyone can repeat, results recorded and published."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from funding.states import ProjectStatus as S
from oversight.inspections import draw_inspections, record_result, redo_draw
from oversight.models import InspectionResult
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(county):
    return [
        demo.advance(
            county, demo.draft_project(county, "applicant", f"执行项目{i}", "300000"), S.IN_PROGRESS
        )
        for i in range(4)
    ]


def test_the_same_seed_and_pool_give_the_same_draw(county, running):
    staff = county.users["staff"]
    first = draw_inspections(staff, 2, 1, seed="2026-Q4")
    second = draw_inspections(staff, 2, 1, seed="2026-Q4")
    ids = lambda d: sorted(d.projects.values_list("pk", flat=True))  # noqa: E731
    assert ids(first) == ids(second)
    again = redo_draw(first.seed, first.population, first.inspector_pool, 2, 1)
    assert again[0] == ids(first)
    assert first.population == sorted(p.pk for p in running)


def test_a_draw_without_a_seed_gets_one_and_publishes_it(client, county, running):
    draw = draw_inspections(county.users["staff"], 1, 1)
    assert len(draw.seed) == 16
    page = client.get(reverse("inspection", args=[draw.pk])).content.decode()
    assert draw.seed in page


def test_bad_sizes_and_roles_are_refused(county, running):
    with pytest.raises(ValidationError):
        draw_inspections(county.users["staff"], 5, 1)
    with pytest.raises(ValidationError):
        draw_inspections(county.users["staff"], 1, 0)
    with pytest.raises(PermissionDenied):
        draw_inspections(county.users["applicant"], 1, 1)


def test_a_drawn_inspector_records_a_result_the_public_can_read(client, county, running):
    draw = draw_inspections(county.users["staff"], 1, 1, seed="s")
    project, inspector = draw.projects.get(), draw.inspectors.get()
    with pytest.raises(PermissionDenied):
        record_result(draw, project, county.users["applicant"], "compliant", "良好")
    record_result(draw, project, inspector, "rectify", "部分凭证缺少审批签字。")
    with pytest.raises(ValidationError):
        record_result(draw, project, inspector, "compliant", "再次登记")
    assert InspectionResult.objects.count() == 1
    page = client.get(reverse("inspection", args=[draw.pk])).content.decode()
    assert "部分凭证缺少审批签字。" in page


def test_a_refused_result_comes_back_with_what_the_inspector_typed(client, county, running):
    draw = draw_inspections(county.users["staff"], 1, 1, seed="s")
    project, inspector = draw.projects.get(), draw.inspectors.get()
    client.force_login(inspector)
    client.cookies["django_language"] = "en"
    url = reverse("inspection-record", args=[draw.pk, project.pk])
    typed = {f"{project.pk}-conclusion": "", f"{project.pk}-finding": "三张发票缺少验收单。"}
    response = client.post(url, typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "三张发票缺少验收单。" in page and "This field is required." in page
    assert not InspectionResult.objects.exists()
    typed[f"{project.pk}-conclusion"] = "rectify"
    assert client.post(url, typed).status_code == 302
    assert InspectionResult.objects.get().finding == "三张发票缺少验收单。"
