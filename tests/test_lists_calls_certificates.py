"""The call and certificate lists (issue 11): filters, sorting and exports agree, bad
filters never show rows, and each role sees the certificates of the projects it sees."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from funding.models import Call, ExpertAssignment, Project
from funding.states import ProjectStatus
from oversight.models import AuditEngagement, Certificate
from tests.lists_support import column, copies, csv_rows, statements, xlsx_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db

MINE, THEIRS = "水稻病虫害监测", "智能装备控制器"


# --- calls ------------------------------------------------------------------------------


def new_call(title: str, opens_in: int, lasts: int, cap: str, program="县级科技计划") -> Call:
    today = timezone.localdate()
    opens_on = today + datetime.timedelta(days=opens_in)
    return Call.objects.create(
        title=title,
        program=program,
        opens_on=opens_on,
        closes_on=opens_on + datetime.timedelta(days=lasts),
        funding_cap=Decimal(cap),
    )


@pytest.fixture
def calls(county):
    """The county's open and closed calls, and one opening next month."""
    upcoming = new_call("明年人才专项", 30, 60, "300000", program="人才专项")
    return county.call, county.closed_call, upcoming


def test_an_applicant_applies_from_the_list_to_open_calls_only(client_en, county, calls):
    open_call, closed_call, upcoming = calls
    client_en.force_login(county.users["applicant"])
    page = client_en.get("/calls/").content.decode()
    assert f'href="/calls/{open_call.pk}/apply/"' in page
    assert f"/calls/{closed_call.pk}/apply/" not in page
    assert f"/calls/{upcoming.pk}/apply/" not in page
    assert "1,000,000.00 yuan" in page
    rows = xlsx_rows(client_en.get("/calls/?export=xlsx"))
    assert rows[0] == [
        "Title",
        "Program",
        "Opens on",
        "Closes on",
        "Funding cap per project",
        "Open for applications",
    ]
    assert sorted(column(rows, "Open for applications")) == ["Closed", "Not yet open", "Open now"]


def test_staff_see_every_call_and_no_apply_link(client_en, county, calls):
    client_en.force_login(county.users["staff"])
    response = client_en.get("/calls/")
    page = text(response)
    assert "Showing 1–3 of 3" in page and "/apply/" not in page
    # A link is in the markup, not the text: look where an apply link would be.
    assert "/apply/" not in response.content.decode()


def test_call_filters_narrow_the_page_and_the_export_alike(client_en, county, calls):
    open_call, closed_call, upcoming = calls
    client_en.force_login(county.users["applicant"])
    for state, call in (("open", open_call), ("closed", closed_call), ("upcoming", upcoming)):
        assert "Showing 1–1 of 1" in text(client_en.get(f"/calls/?state={state}"))
        rows = csv_rows(client_en.get(f"/calls/?state={state}&export=csv"))
        assert column(rows, "Title") == [call.title]
    rows = xlsx_rows(client_en.get("/calls/?program=人才专项&export=xlsx"))
    assert column(rows, "Title") == [upcoming.title]
    year = closed_call.opens_on.year
    rows = xlsx_rows(client_en.get(f"/calls/?year={year}&export=xlsx"))
    assert closed_call.title in column(rows, "Title")
    assert "Showing 1–1 of 1" in text(client_en.get("/calls/?q=特派员"))


def test_calls_sort_by_cap_on_the_page_and_in_the_export(client_en, county, calls):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get("/calls/?sort=funding_cap&export=xlsx"))
    assert column(rows, "Funding cap per project") == [200000, 300000, 1000000]
    rows = csv_rows(client_en.get("/calls/?sort=-closes_on&export=csv"))
    assert column(rows, "Title")[0] == "明年人才专项"
    page = client_en.get("/calls/?sort=-funding_cap").content.decode()
    assert page.index("1,000,000.00 yuan") < page.index("200,000.00 yuan")


@pytest.mark.parametrize(
    "query",
    ["state=soon", "year=abc", "program=没有的计划", "year=1900", "q=%00", f"q={'x' * 101}"],
)
def test_a_bad_call_filter_says_so_and_shows_no_rows(client_en, county, calls, query):
    client_en.force_login(county.users["applicant"])
    response = client_en.get(f"/calls/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "/apply/" not in page
    assert county.call.title not in page
    assert f"/calls/{county.call.pk}/apply/" not in response.content.decode()
    assert client_en.get(f"/calls/?{query}&export=csv").status_code == 302


def test_a_call_title_that_looks_like_a_formula_is_exported_as_text(client_en, county, calls):
    new_call("=1+2", -5, 10, "1000")
    client_en.force_login(county.users["staff"])
    titles = column(xlsx_rows(client_en.get("/calls/?export=xlsx")), "Title")
    assert "'=1+2" in titles and "=1+2" not in titles
    titles = column(csv_rows(client_en.get("/calls/?export=csv")), "Title")
    assert "'=1+2" in titles


@pytest.mark.parametrize("who", ["staff", "applicant"])
def test_the_call_list_makes_as_many_statements_with_ten_times_the_rows(
    client_en, county, calls, who
):
    client_en.force_login(county.users[who])
    client_en.get("/calls/")
    assert "Showing 1–3 of 3" in text(client_en.get("/calls/"))  # rows read in both runs
    few = statements(client_en, "/calls/")
    for i in range(30):
        new_call(f"专项{i}", i - 15, 20, "100000", program=f"计划{i % 3}")
    assert statements(client_en, "/calls/") == few


def test_signed_out_visitors_are_sent_to_sign_in(client, county):
    for url in ("/calls/", "/certificates/"):
        assert client.get(url).status_code == 302
        assert f"next={url}" in client.get(url)["Location"]


# --- certificates -----------------------------------------------------------------------


def certify(project: Project, by, n: int, status=Certificate.Status.ISSUED) -> Certificate:
    revoked = timezone.now() if status == Certificate.Status.REVOKED else None
    return Certificate.objects.create(
        project=project,
        serial=f"YS2026-{project.pk:06d}-T{n:03d}",
        status=status,
        issued_by=by,
        revoked_at=revoked,
        revoked_reason="成果造假" if revoked else "",
    )


@pytest.fixture
def certificates(county):
    """Three accepted projects of the institute (one certificate revoked), two of the
    enterprise."""
    staff = county.users["staff"]
    mine = demo.draft_project(county, "applicant", MINE, "600000")
    theirs = demo.draft_project(county, "applicant2", THEIRS, "150000")
    made = []
    accepted = ProjectStatus.ACCEPTED
    for i, project in enumerate(
        copies(mine, 3, status=accepted) + copies(theirs, 2, status=accepted)
    ):
        status = Certificate.Status.REVOKED if i == 0 else Certificate.Status.ISSUED
        made.append(certify(project, staff, i, status))
    return made


def test_staff_see_every_certificate_with_links(client_en, county, certificates):
    client_en.force_login(county.users["staff"])
    page = text(client_en.get("/certificates/"))
    assert "Showing 1–5 of 5" in page
    html = client_en.get("/certificates/").content.decode()
    first = certificates[0]
    assert f'href="/verify/{first.serial}/"' in html
    assert f'href="/projects/{first.project_id}/"' in html
    rows = xlsx_rows(client_en.get("/certificates/?export=xlsx"))
    assert f"http://testserver/verify/{first.serial}/" in column(rows, "Verification page")


@pytest.mark.parametrize("who", ["applicant", "unit1"])
def test_the_institute_exports_only_its_own_certificates(client_en, county, certificates, who):
    client_en.force_login(county.users[who])
    rows = xlsx_rows(client_en.get("/certificates/?export=xlsx"))
    assert len(rows) == 1 + 3
    assert all(title.startswith(MINE) for title in column(rows, "Project"))
    enterprise = county.orgs["enterprise"].pk
    response = client_en.get(f"/certificates/?organisation={enterprise}")
    assert response.status_code == 200 and THEIRS not in text(response)


def test_an_auditor_sees_only_the_certificates_of_their_engagements(
    client_en, county, certificates
):
    theirs = certificates[3].project
    client_en.force_login(county.users["auditor"])
    assert "Nothing matches." in text(client_en.get("/certificates/"))
    AuditEngagement.objects.create(
        project=theirs,
        firm=county.orgs["firm"],
        lead_auditor=county.users["auditor"],
        appointed_by=county.users["staff"],
        ended_at=timezone.now(),  # ended by its opinion: the project page stays theirs
    )
    rows = csv_rows(client_en.get("/certificates/?export=csv"))
    assert column(rows, "Serial number") == [certificates[3].serial]


def test_an_expert_who_has_not_declared_sees_no_certificate(client_en, county, certificates):
    project = certificates[1].project
    expert = county.users["expert1"]
    assignment = ExpertAssignment.objects.create(project=project, expert=expert)
    client_en.force_login(expert)
    assert "Nothing matches." in text(client_en.get("/certificates/"))
    ExpertAssignment.objects.filter(pk=assignment.pk).update(no_conflict_declared=True)
    rows = xlsx_rows(client_en.get("/certificates/?export=xlsx"))
    assert column(rows, "Serial number") == [certificates[1].serial]


def test_certificate_filters_narrow_the_page_and_the_export_alike(client_en, county, certificates):
    client_en.force_login(county.users["staff"])
    rows = csv_rows(client_en.get("/certificates/?state=revoked&export=csv"))
    assert column(rows, "Serial number") == [certificates[0].serial]
    assert column(rows, "State") == ["Revoked"]
    assert column(rows, "Revoked on") == [timezone.localdate().isoformat()]
    assert "Showing 1–4 of 4" in text(client_en.get("/certificates/?state=valid"))
    year = timezone.localdate().year
    assert "of 5" in text(client_en.get(f"/certificates/?year={year}"))
    assert "Nothing matches." in text(client_en.get(f"/certificates/?year={year - 1}"))
    enterprise = county.orgs["enterprise"].pk
    rows = xlsx_rows(client_en.get(f"/certificates/?organisation={enterprise}&export=xlsx"))
    assert len(rows) == 1 + 2
    serial = certificates[2].serial
    assert "Showing 1–1 of 1" in text(client_en.get(f"/certificates/?q={serial.lower()}"))
    assert "of 2" in text(client_en.get(f"/certificates/?q={THEIRS}"))


def test_certificates_sort_by_serial_on_the_page_and_in_the_export(client_en, county, certificates):
    client_en.force_login(county.users["staff"])
    serials = sorted(c.serial for c in certificates)
    rows = xlsx_rows(client_en.get("/certificates/?sort=-serial&export=xlsx"))
    assert column(rows, "Serial number") == serials[::-1]
    page = client_en.get("/certificates/?sort=serial").content.decode()
    assert page.index(serials[0]) < page.index(serials[-1])


@pytest.mark.parametrize(
    "query",
    [
        "state=lost",
        "year=abc",
        "organisation=999999",
        "organisation=x",
        "organisation=1e30",
        "q=%1b",
    ],
)
def test_a_bad_certificate_filter_says_so_and_shows_no_rows(client_en, county, certificates, query):
    client_en.force_login(county.users["staff"])
    response = client_en.get(f"/certificates/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "YS2026-" not in page
    assert client_en.get(f"/certificates/?{query}&export=xlsx").status_code == 302


def test_a_project_title_that_looks_like_a_formula_is_exported_as_text(
    client_en, county, certificates
):
    Project.objects.filter(pk=certificates[0].project_id).update(title="-2+3")
    client_en.force_login(county.users["staff"])
    titles = column(xlsx_rows(client_en.get("/certificates/?export=xlsx")), "Project")
    assert "'-2+3" in titles and "-2+3" not in titles
    titles = column(csv_rows(client_en.get("/certificates/?export=csv")), "Project")
    assert "'-2+3" in titles


@pytest.mark.parametrize("who", ["staff", "applicant", "expert1"])
def test_the_certificate_list_makes_as_many_statements_with_ten_times_the_rows(
    client_en, county, certificates, who
):
    mine, expert = certificates[0].project, county.users["expert1"]
    ExpertAssignment.objects.create(project=mine, expert=expert)  # withheld from them
    reviewed = certificates[1].project
    ExpertAssignment.objects.create(project=reviewed, expert=expert, no_conflict_declared=True)
    client_en.force_login(county.users[who])
    client_en.get("/certificates/")
    few = statements(client_en, "/certificates/")
    staff = county.users["staff"]
    for i, project in enumerate(copies(mine, 40, status=ProjectStatus.ACCEPTED)):
        certify(project, staff, 100 + i)
        # The expert reviewed these, declared: they see the certificates beside the one withheld.
        ExpertAssignment.objects.create(project=project, expert=expert, no_conflict_declared=True)
    assert statements(client_en, "/certificates/") == few
