"""Spending controls (issue 9, DESIGN §5): spending beyond what was disbursed, or beyond a
category's budget, is recorded with a warning at entry (form and import) and a red flag on
the fund trail; a first disbursement later than FIRST_DISBURSEMENT_DAYS after signing the
task contract is shown late on the overview and the project's funds page."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.contracts import ProjectContract
from funding.flags import first_disbursement, late_first_disbursements
from funding.models import Expenditure, Project
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import perform

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAY = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def running(county):
    """600,000 yuan, 360,000 disbursed; operations budget 210,000, labour 120,000."""
    project = demo.draft_project(county, "applicant", "支出控制项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def voucher(number: str, category: str, amount: str, payee: str = "某供应商") -> dict:
    return {
        "voucher_no": number,
        "spent_on": DAY,
        "category": category,
        "payee": payee,
        "method": "transfer",
        "amount": amount,
    }


def record(client, project, data):
    return client.post(reverse("project-funds", args=[project.pk]), data, follow=True)


def last_spending_event(project):
    return history_of(project).filter(kind=EventKind.EXPENDITURE_RECORDED).last()


# --- warnings at entry ----------------------------------------------------------------------


def test_spending_within_the_money_given_records_without_a_warning(client, running):
    client.force_login(running.pi)
    page = record(client, running, voucher("JZ-1", "operations", "1200.00")).content.decode()
    assert "The expenditure has been recorded." in page
    assert 'class="warning"' not in page
    assert last_spending_event(running).data["warnings"] == []


def test_spending_beyond_disbursed_is_recorded_with_a_warning_and_flagged(client, running):
    client.force_login(running.pi)
    record(client, running, voucher("JZ-1", "equipment", "180000.00"))
    record(client, running, voucher("JZ-2", "operations", "170000.00"))
    page = record(client, running, voucher("JZ-3", "labour", "20000.00")).content.decode()
    assert Expenditure.objects.filter(project=running).count() == 3  # not refused
    assert 'class="warning"' in page
    assert "370000.00 yuan spent, 10000.00 yuan more than the 360000.00 yuan disbursed" in page
    assert 'data-flag="spent_beyond_disbursed"' in page
    assert last_spending_event(running).data["warnings"] == ["spent_beyond_disbursed"]


def test_a_category_over_its_budget_is_recorded_with_a_warning_and_flagged(client, running):
    client.force_login(running.pi)
    record(client, running, voucher("JZ-1", "labour", "115000.00"))
    page = record(client, running, voucher("JZ-2", "labour", "6000.00")).content.decode()
    assert Expenditure.objects.filter(project=running).count() == 2
    assert "Labour: 121000.00 yuan spent against a budget of 120000.00 yuan." in page
    assert 'data-flag="category_over_budget"' in page
    assert last_spending_event(running).data["warnings"] == ["category_over_budget"]


def test_an_import_beyond_the_budget_warns_after_saving(client, running):
    client.force_login(running.pi)
    rows = (
        "凭证号,日期,科目,收款方,支付方式,金额\n"
        f"JZ-1,{DAY},劳务费,某劳务公司,转账,100000\n"
        f"JZ-2,{DAY},劳务费,某劳务公司,转账,30000\n"
    )
    upload = io.BytesIO(rows.encode())
    upload.name = "ledger.csv"
    response = client.post(
        reverse("ledger-import", args=[running.pk]), {"file": upload}, follow=True
    )
    page = response.content.decode()
    assert Expenditure.objects.filter(project=running).count() == 2
    assert "2 entries imported" in page
    assert "Labour: 130000.00 yuan spent against a budget of 120000.00 yuan." in page
    assert 'data-flag="category_over_budget"' in page
    assert last_spending_event(running).data["warnings"] == ["category_over_budget"]


def test_the_auditor_and_the_unit_see_the_flags(client, county, running):
    client.force_login(running.pi)
    record(client, running, voucher("JZ-1", "operations", "60000.00", payee="现金"))
    record(client, running, voucher("JZ-2", "operations", "160000.00"))
    demo.advance(county, running, S.UNDER_AUDIT)
    unit = next(
        u
        for n, u in county.users.items()
        if n.startswith("unit") and u.organisation_id == running.applicant_org_id
    )
    for user in (county.users["auditor"], unit):
        client.force_login(user)
        page = client.get(reverse("project-funds", args=[running.pk])).content.decode()
        assert 'data-flag="vague_payee"' in page, user
        assert 'data-flag="category_over_budget"' in page, user
        assert "which names nobody" in page


# --- the first disbursement -----------------------------------------------------------------


@pytest.fixture
def contracted(county):
    project = demo.draft_project(county, "applicant", "待拨付项目", "300000")
    return demo.advance(county, project, S.CONTRACTED)


def signed_days_ago(project, days: int) -> None:
    """The contract was signed `days` ago (the frozen terms say when)."""
    at = timezone.now() - datetime.timedelta(days=days)
    ProjectContract.objects.filter(project=project).update(frozen_at=at)
    # The project keeps the day too, for the overview's indexed list (issue 10).
    Project.objects.filter(pk=project.pk).update(signed_on=timezone.localdate(at))


def overview(client, county) -> str:
    client.force_login(county.users["leader"])
    return client.get(reverse("dashboard")).content.decode()


def test_a_first_disbursement_missing_after_30_days_is_shown_late(client, county, contracted):
    signed_days_ago(contracted, 10)
    assert f'data-late-disbursement="{contracted.pk}"' not in overview(client, county)
    signed_days_ago(contracted, 40)
    page = overview(client, county)
    assert f'data-late-disbursement="{contracted.pk}"' in page and "Not yet paid" in page
    (row,) = late_first_disbursements()
    assert row["timing"].days_late == 10 and row["timing"].paid_on is None
    client.force_login(county.users["staff"])
    funds = client.get(reverse("project-funds", args=[contracted.pk])).content.decode()
    assert 'data-first-disbursement="late"' in funds and "not yet paid · 10 days late" in funds


def test_a_first_disbursement_that_came_late_stays_shown_late(client, county, contracted):
    signed_days_ago(contracted, 45)
    perform(
        contracted.pk, "disburse", county.users["staff"], amount=Decimal("100000"), tranche="首笔"
    )
    (row,) = late_first_disbursements()
    assert row["project"].pk == contracted.pk and row["timing"].days_late == 15
    assert row["timing"].paid_on == timezone.localdate()
    client.force_login(contracted.pi)
    funds = client.get(reverse("project-funds", args=[contracted.pk])).content.decode()
    assert 'data-first-disbursement="late"' in funds and "15 days late" in funds


def test_a_disbursement_in_time_is_not_late(client, county, running):
    assert late_first_disbursements() == []
    timing = first_disbursement(running)
    assert timing.paid_on == timing.signed_on and not timing.late
    client.force_login(running.pi)
    funds = client.get(reverse("project-funds", args=[running.pk])).content.decode()
    assert 'data-first-disbursement="on-time"' in funds


def test_the_period_is_a_setting(county, contracted, settings):
    signed_days_ago(contracted, 10)
    settings.FIRST_DISBURSEMENT_DAYS = 7
    (row,) = late_first_disbursements()
    assert row["timing"].days_late == 3


def test_an_old_project_without_frozen_terms_reads_the_signing_from_the_trail(county, contracted):
    ProjectContract.objects.filter(project=contracted).update(frozen_at=None)
    signed = history_of(contracted).filter(data__transition="sign_contract").get().at
    later = timezone.localtime(signed).date() + datetime.timedelta(days=31)
    assert first_disbursement(contracted, today=later).days_late == 1
    assert [r["project"].pk for r in late_first_disbursements(today=later)] == [contracted.pk]


def test_the_overview_lists_late_disbursements_for_staff_too(client, county, contracted):
    signed_days_ago(contracted, 31)
    client.force_login(county.users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert "First disbursement late" in page and contracted.title in page


def test_the_stored_signing_and_first_tranche_days_follow_every_tranche(county, contracted):
    """sign_contract keeps `signed_on`; the first tranche `first_disbursed_on`, which a
    later tranche or a refused one leaves alone; both agree with the contract and the
    tranches they are copied from (funding.flags.first_disbursement)."""
    from django.core.exceptions import ValidationError

    from funding.models import Disbursement

    staff = county.users["staff"]
    contracted.refresh_from_db()
    assert contracted.signed_on == first_disbursement(contracted).signed_on
    assert contracted.first_disbursed_on is None

    perform(contracted.pk, "disburse", staff, amount=Decimal("100000"), tranche="首笔")
    contracted.refresh_from_db()
    assert contracted.first_disbursed_on == first_disbursement(contracted).paid_on

    # Say the first tranche was paid last week: a second one today does not move the day.
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    Disbursement.objects.filter(project=contracted).update(paid_on=week_ago)
    Project.objects.filter(pk=contracted.pk).update(first_disbursed_on=week_ago)
    perform(contracted.pk, "disburse", staff, amount=Decimal("50000"), tranche="第二笔")
    with pytest.raises(ValidationError):  # above the approved amount: refused, nothing saved
        perform(contracted.pk, "disburse", staff, amount=Decimal("10000000"), tranche="超额")
    contracted.refresh_from_db()
    assert contracted.first_disbursed_on == week_ago == first_disbursement(contracted).paid_on
    assert contracted.disbursed_total == Decimal("150000.00")


def test_staff_cannot_change_the_stored_days_in_the_admin(client, county, running):
    running.refresh_from_db()
    signed, paid = running.signed_on, running.first_disbursed_on
    client.force_login(county.users["staff"])
    url = reverse("admin:funding_project_change", args=[running.pk])
    response = client.post(url, {"signed_on": "2001-01-01", "first_disbursed_on": "2001-01-02"})
    assert response.status_code in (302, 403) or b"2001-01-01" not in response.content
    running.refresh_from_db()
    assert (running.signed_on, running.first_disbursed_on) == (signed, paid)
    assert signed is not None and paid is not None
