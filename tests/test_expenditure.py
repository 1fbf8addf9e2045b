"""The PI records spending; the fund trail shows it; others cannot write to it."""

import datetime

import pytest
from django.urls import reverse

from funding.models import Expenditure
from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db

VOUCHER = {
    "voucher_no": "JZ-0101",
    "spent_on": (datetime.date.today() - datetime.timedelta(days=10)).isoformat(),
    "category": "equipment",
    "payee": "杭州某仪器有限公司",
    "method": "transfer",
    "amount": "85000.00",
}


@pytest.fixture
def running(county):
    return demo.advance(
        county, demo.draft_project(county, "applicant", "执行项目", "600000"), S.IN_PROGRESS
    )


def test_the_pi_records_an_expenditure_and_the_trail_shows_it(client, county, running):
    client.force_login(running.pi)
    response = client.post(reverse("project-funds", args=[running.pk]), VOUCHER, follow=True)
    assert Expenditure.objects.filter(project=running, voucher_no="JZ-0101").count() == 1
    assert "JZ-0101" in response.content.decode()


@pytest.mark.parametrize(
    "field, value", [("amount", "-5"), ("amount", "0"), ("spent_on", "not a date")]
)
def test_bad_expenditures_are_refused_and_store_nothing(client, running, field, value):
    client.force_login(running.pi)
    response = client.post(reverse("project-funds", args=[running.pk]), {**VOUCHER, field: value})
    assert response.context["form"].errors
    assert not Expenditure.objects.exists()


def test_spending_is_refused_before_the_project_runs(client, county, draft):
    client.force_login(draft.pi)
    client.post(reverse("project-funds", args=[draft.pk]), VOUCHER)
    assert not Expenditure.objects.exists()


def test_staff_cannot_record_the_units_spending(client, county, running):
    client.force_login(county.users["staff"])
    client.post(reverse("project-funds", args=[running.pk]), VOUCHER)
    assert not Expenditure.objects.exists()
