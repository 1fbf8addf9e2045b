"""The admin is a write path like any page: identities, calls and sanctions change only
through their services (checked, journaled), bad input is a form error, nothing is deleted."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from funding.models import Call
from integrity.models import Gate, Sanction, Severity, VetoCheck
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo

from .forms_support import form_data

pytestmark = pytest.mark.usefixtures("english")

NEW_ID = demo.person_id(777, birth="19851130")
NEW_CODE = demo.credit_code(77)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spaced(number: str) -> str:
    return f"{number[:6]} {number[6:14]} {number[14:]}"


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-pass")


def grant(user, *codenames: str) -> None:
    """Admin rights the demo roles do not carry (the lead decides which roles get them)."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def admin_change(client, obj, **changes):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    shown = client.get(url)
    assert shown.status_code == 200
    return client.post(url, form_data(shown.context["adminform"].form, **changes))


def events(kind: EventKind, obj) -> list[Event]:
    return list(
        Event.objects.filter(kind=kind, object_type=obj._meta.label_lower, object_id=str(obj.pk))
    )


def form_errors(response) -> str:
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- ID numbers of users -----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [NEW_ID, spaced(NEW_ID), full_width(NEW_ID), NEW_ID.lower(), spaced(full_width(NEW_ID))],
)
def test_a_superuser_corrects_an_id_number_typed_any_way_and_it_is_stored_canonical(
    client, county, root, typed
):
    applicant = county.users["applicant"]
    before = applicant.id_number
    client.force_login(root)

    response = admin_change(client, applicant, id_number=typed, reason="身份证号录入错误，核对原件")

    assert response.status_code == 302, form_errors(response)
    applicant.refresh_from_db()
    assert applicant.id_number == NEW_ID
    [event] = events(EventKind.IDENTITY_CHANGED, applicant)
    assert event.before == {"id_number": before}
    assert event.after == {"id_number": NEW_ID}
    assert event.data["reason"] == "身份证号录入错误，核对原件"
    assert event.actor_id == root.pk


def test_changing_an_id_number_without_a_reason_is_a_form_error_and_stores_nothing(
    client, county, root
):
    applicant = county.users["applicant"]
    before = applicant.id_number
    client.force_login(root)

    response = admin_change(client, applicant, id_number=NEW_ID, reason="")

    assert response.status_code == 200
    assert "written reason" in form_errors(response)
    assert NEW_ID in response.content.decode()  # what was typed comes back
    applicant.refresh_from_db()
    assert applicant.id_number == before
    assert events(EventKind.IDENTITY_CHANGED, applicant) == []


@pytest.mark.parametrize(
    "typed, message",
    [
        (NEW_ID[:17] + ("1" if NEW_ID[17] != "1" else "2"), "check digit"),
        ("33012719800101001", "18 characters"),
        ("3301271980010100\x0016", "18 characters"),
        ("፫፫0127198001010016", "18 characters"),  # Ethiopic numerals are not decimal digits
    ],
)
def test_a_wrong_id_number_in_the_admin_is_a_form_error_not_a_500(
    client, county, root, typed, message
):
    applicant = county.users["applicant"]
    before = applicant.id_number
    client.force_login(root)

    response = admin_change(client, applicant, id_number=typed, reason="更正")

    assert response.status_code == 200
    assert message in form_errors(response)
    applicant.refresh_from_db()
    assert applicant.id_number == before


def test_an_id_number_cannot_be_removed_in_the_admin(client, county, root):
    applicant = county.users["applicant"]
    client.force_login(root)
    response = admin_change(client, applicant, id_number="", reason="不需要")
    assert response.status_code == 200
    assert "cannot be removed" in form_errors(response)
    applicant.refresh_from_db()
    assert applicant.id_number


def test_bureau_staff_correct_an_id_number_but_cannot_grant_themselves_privileges(client, county):
    staff, applicant = county.users["staff"], county.users["applicant"]
    grant(staff, "view_user", "change_user")
    client.force_login(staff)

    response = admin_change(
        client, applicant, id_number=spaced(NEW_ID), reason="当事人持身份证原件申请更正"
    )
    assert response.status_code == 302, form_errors(response)
    applicant.refresh_from_db()
    assert applicant.id_number == NEW_ID
    [event] = events(EventKind.IDENTITY_CHANGED, applicant)
    assert event.actor_id == staff.pk and event.data["reason"] == "当事人持身份证原件申请更正"

    # The privilege fields are read-only for anyone but a superuser.
    admin_change(client, staff, is_superuser="on", is_staff="on", reason="")
    staff.refresh_from_db()
    assert not staff.is_superuser


def test_an_admin_user_without_the_staff_role_cannot_change_an_id_number(client, county):
    officer, applicant = county.users["integrity"], county.users["applicant"]
    grant(officer, "view_user", "change_user")
    before = applicant.id_number
    client.force_login(officer)

    response = admin_change(client, applicant, id_number=NEW_ID, reason="试试")

    assert response.status_code == 200
    assert "Only bureau staff" in form_errors(response)
    applicant.refresh_from_db()
    assert applicant.id_number == before


def test_an_account_added_in_the_admin_gets_its_id_number_through_the_service(client, root, db):
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "a-long-new-pass-2026",
            "password2": "a-long-new-pass-2026",
            "real_name": "新来者",
            "id_number": full_width(NEW_ID.lower()),
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newcomer")
    assert user.id_number == NEW_ID
    [event] = events(EventKind.IDENTITY_CHANGED, user)
    assert event.before == {"id_number": ""} and event.after == {"id_number": NEW_ID}
    assert event.actor_id == root.pk and event.data["reason"]


# --- credit codes of organisations --------------------------------------------------------


def test_a_credit_code_change_needs_a_reason_and_is_journaled(client, county, root):
    org = county.orgs["enterprise"]
    before = org.credit_code
    client.force_login(root)

    refused = admin_change(client, org, credit_code=NEW_CODE.lower(), reason="")
    assert refused.status_code == 200 and "written reason" in form_errors(refused)
    org.refresh_from_db()
    assert org.credit_code == before

    response = admin_change(
        client, org, credit_code=f" {full_width(NEW_CODE)} ", reason="营业执照变更"
    )
    assert response.status_code == 302, form_errors(response)
    org.refresh_from_db()
    assert org.credit_code == NEW_CODE
    [event] = events(EventKind.IDENTITY_CHANGED, org)
    assert event.before == {"credit_code": before} and event.after == {"credit_code": NEW_CODE}
    assert event.data["reason"] == "营业执照变更"


def test_a_credit_code_already_taken_is_a_form_error(client, county, root):
    org, other = county.orgs["enterprise"], county.orgs["institute"]
    client.force_login(root)
    response = admin_change(client, org, credit_code=other.credit_code, reason="合并")
    assert response.status_code == 200
    assert "already" in form_errors(response)


def test_an_organisation_added_in_the_admin_is_journaled(client, root, db):
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_organisation_add"),
        {"name": "新办企业", "credit_code": NEW_CODE.lower(), "kind": "enterprise", "reason": ""},
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="新办企业")
    assert org.credit_code == NEW_CODE
    [event] = events(EventKind.IDENTITY_CHANGED, org)
    assert event.after["credit_code"] == NEW_CODE


# --- nothing is deleted ------------------------------------------------------------------


def _sanction(county) -> Sanction:
    return demo.sanction_person(county.users["vetoed"], county.users["integrity"])


@pytest.mark.parametrize("what", ["user", "organisation", "call", "sanction"])
def test_delete_is_refused_in_the_admin(client, county, root, what):
    obj = {
        "user": lambda: county.users["applicant"],
        "organisation": lambda: county.orgs["enterprise"],
        "call": lambda: county.call,
        "sanction": lambda: _sanction(county),
    }[what]()
    client.force_login(root)
    name = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"

    change_page = client.get(reverse(f"{name}_change", args=[obj.pk]))
    assert change_page.status_code == 200
    assert "deletelink" not in change_page.content.decode()
    assert client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    listing = client.get(reverse(f"{name}_changelist"))
    assert "delete_selected" not in listing.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).exists()


# --- veto checks and overrides are records ------------------------------------------------


def test_a_veto_check_is_read_only_in_the_admin(client, county, root):
    check = VetoCheck.objects.create(
        gate=Gate.APPLY, object_type="funding.project", object_id="1", passed=True
    )
    client.force_login(root)
    url = reverse("admin:integrity_vetocheck_change", args=[check.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"gate": Gate.AUDIT, "passed": ""}).status_code == 403
    check.refresh_from_db()
    assert check.gate == Gate.APPLY and check.passed
    assert client.get(reverse("admin:integrity_vetocheck_add")).status_code == 403


def test_veto_overrides_are_listed_read_only(client, root):
    client.force_login(root)
    assert client.get(reverse("admin:integrity_vetooverride_changelist")).status_code == 200
    assert client.get(reverse("admin:integrity_vetooverride_add")).status_code == 403


# --- sanctions ---------------------------------------------------------------------------


def test_the_integrity_officer_edits_a_sanction_and_the_trail_keeps_before_and_after(
    client, county
):
    officer = county.users["integrity"]
    sanction = _sanction(county)
    old_end = sanction.ends_on
    new_end = sanction.starts_on.replace(year=sanction.starts_on.year + 4)
    client.force_login(officer)

    response = admin_change(
        client, sanction, ends_on=new_end.isoformat(), subject_name="孙某某", under_appeal="on"
    )

    assert response.status_code == 302, form_errors(response)
    sanction.refresh_from_db()
    assert sanction.ends_on == new_end and sanction.under_appeal
    event = events(EventKind.SANCTION_RECORDED, sanction)[-1]
    assert event.actor_id == officer.pk
    assert event.before["ends_on"] == str(old_end) and event.after["ends_on"] == str(new_end)
    assert event.before["subject_name"] == "孙某" and event.after["subject_name"] == "孙某某"


def test_a_sanction_typed_with_a_full_width_id_number_is_stored_canonical(client, county):
    officer = county.users["integrity"]
    sanction = _sanction(county)
    client.force_login(officer)
    response = admin_change(client, sanction, subject_id=spaced(full_width(NEW_ID.lower())))
    assert response.status_code == 302, form_errors(response)
    sanction.refresh_from_db()
    assert sanction.subject_id == NEW_ID


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"severity": Severity.MINOR}, "minor case"),
        ({"subject_id": "110105194912310021"}, "check digit"),
        ({"measures": None}, "required"),
        ({"ends_on": "2000-01-01"}, "The end cannot precede the start"),
    ],
)
def test_a_bad_sanction_edit_is_a_form_error_and_nothing_changes(client, county, changes, message):
    officer = county.users["integrity"]
    sanction = _sanction(county)
    recorded = len(events(EventKind.SANCTION_RECORDED, sanction))
    client.force_login(officer)

    response = admin_change(client, sanction, **changes)

    assert response.status_code == 200
    assert message in form_errors(response)
    sanction.refresh_from_db()
    assert sanction.severity == Severity.SEVERE
    assert len(events(EventKind.SANCTION_RECORDED, sanction)) == recorded


def test_status_and_revocation_are_read_only_in_the_admin(client, county):
    sanction = _sanction(county)
    client.force_login(county.users["integrity"])
    response = admin_change(client, sanction, status="revoked", revoked_reason="想撤就撤")
    assert response.status_code == 302
    sanction.refresh_from_db()
    assert sanction.status == Sanction.Status.EFFECTIVE and not sanction.revoked_reason


def test_without_the_integrity_role_the_register_is_read_only_in_the_admin(client, county, root):
    sanction = _sanction(county)
    client.force_login(root)
    url = reverse("admin:integrity_sanction_change", args=[sanction.pk])
    assert client.post(url, {"subject_name": "改名"}).status_code == 403
    assert client.get(reverse("admin:integrity_sanction_add")).status_code == 403


# --- calls -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tiers, message",
    [
        ("abc", "valid JSON"),
        ('"abc"', "list of 1 to 10 pairs"),
        ("[[1, 2, 3]]", "list of 1 to 10 pairs"),
        ('{"upper": 5000000, "percent": 30}', "list of 1 to 10 pairs"),
        ("[[NaN, 20]]", "positive number"),
        ("[[5000000, Infinity]]", "percentage"),
        ('[["5000000", 30], [null, 20]]', "positive number"),
        ("[[null, 30], [5000000, 20]]", "only the last tier"),
        ("[[10000000, 30], [5000000, 25], [null, 20]]", "increase"),
        ("[[5000000, 130], [null, 20]]", "percentage"),
        ("[[5000000, true], [null, 20]]", "percentage"),
        ("[]", "required"),
        (str([[i * 1000, 10] for i in range(1, 12)]), "list of 1 to 10 pairs"),
    ],
)
def test_call_tiers_of_the_wrong_shape_are_a_form_error(client, county, tiers, message):
    call = county.call
    before = call.indirect_tiers
    client.force_login(county.users["staff"])

    response = admin_change(client, call, indirect_tiers=tiers)

    assert response.status_code == 200
    assert message in form_errors(response)
    call.refresh_from_db()
    assert call.indirect_tiers == before
    assert events(EventKind.CALL_CHANGED, call) == []


@pytest.mark.parametrize(
    "cap, message",
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("100000000.01", "at most 100,000,000.00 yuan"),
        ("1e6", "write the number in full, without exponent"),
        ("1000.001", "at most two decimals"),
        ("NaN", "NaN and Infinity are not numbers"),
    ],
)
def test_a_call_cap_out_of_bounds_is_a_form_error(client, county, cap, message):
    call = county.call
    client.force_login(county.users["staff"])
    response = admin_change(client, call, funding_cap=cap)
    assert response.status_code == 200
    assert message in form_errors(response)
    call.refresh_from_db()
    assert call.funding_cap == 1_000_000


def test_a_call_closing_before_it_opens_is_a_form_error(client, county):
    call = county.call
    client.force_login(county.users["staff"])
    closes = (call.opens_on - datetime.timedelta(days=1)).isoformat()
    response = admin_change(client, call, closes_on=closes)
    assert response.status_code == 200
    assert "close before it opens" in form_errors(response)


def test_a_good_call_change_is_journaled_with_before_and_after(client, county):
    call, staff = county.call, county.users["staff"]
    client.force_login(staff)

    response = admin_change(
        client,
        call,
        funding_cap="800000.50",
        indirect_tiers="[[2000000, 30], [null, 25]]",
        description="只改说明",
    )

    assert response.status_code == 302, form_errors(response)
    call.refresh_from_db()
    assert call.indirect_tiers == [[2000000, 30], [None, 25]]
    [event] = events(EventKind.CALL_CHANGED, call)
    assert event.actor_id == staff.pk
    assert event.before["funding_cap"] == "1000000.00" and event.after["funding_cap"] == "800000.50"
    assert event.before["indirect_tiers"] == [[5000000, 30], [10000000, 25], [None, 20]]
    assert event.after["indirect_tiers"] == [[2000000, 30], [None, 25]]
    assert "description" not in event.after

    # Saving again without a change of the rules adds nothing to the trail.
    assert admin_change(client, call, description="再改说明").status_code == 302
    assert len(events(EventKind.CALL_CHANGED, call)) == 1


def test_a_call_added_in_the_admin_is_journaled(client, county):
    client.force_login(county.users["staff"])
    today = timezone.localdate()
    response = client.post(
        reverse("admin:funding_call_add"),
        {
            "title": "新指南",
            "program": "县级科技计划",
            "description": "",
            "opens_on": today.isoformat(),
            "closes_on": (today + datetime.timedelta(days=30)).isoformat(),
            "funding_cap": "300000",
            "indirect_tiers": "[[5000000, 30], [null, 20]]",
        },
    )
    assert response.status_code == 302
    call = Call.objects.get(title="新指南")
    [event] = events(EventKind.CALL_CHANGED, call)
    assert event.before == {} and event.after["funding_cap"] == "300000.00"
