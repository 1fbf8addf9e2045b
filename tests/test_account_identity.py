"""A person's own identity: entered once on their account page, corrected only by staff
with a reason; every change is a trail event with the full numbers before and after."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.identity import mask_id_number
from accounts.models import User
from accounts.services import create_account, set_credit_code, set_id_number
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo

pytestmark = pytest.mark.usefixtures("english")

OWN_ID = demo.person_id(321, birth="19900215")
OTHER_ID = demo.person_id(654, birth="19721009")
PAGE = "account-identity"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def arabic_indic(text: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in text)


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def newcomer(county):
    """The demo applicant, before they have given their ID number (or their name)."""
    user = county.users["applicant"]
    User.objects.filter(pk=user.pk).update(id_number="", real_name="")
    user.refresh_from_db()
    return user


def identity_events(obj) -> list[Event]:
    return list(
        Event.objects.filter(
            kind=EventKind.IDENTITY_CHANGED,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
        )
    )


# --- the page ----------------------------------------------------------------------------


def test_the_applicant_enters_their_id_number_once_and_it_is_stored_canonical(client, newcomer):
    client.force_login(newcomer)
    page = client.get(reverse(PAGE))
    assert page.status_code == 200
    assert "<title>My account</title>" in page.content.decode()
    assert 'name="id_number"' in page.content.decode()

    typed = f"{full_width(OWN_ID[:6])} {arabic_indic(OWN_ID[6:14])} {OWN_ID[14:].lower()}"
    response = client.post(reverse(PAGE), {"real_name": "陈研究员", "id_number": typed})

    assert response.status_code == 302 and response.url == reverse(PAGE)
    newcomer.refresh_from_db()
    assert newcomer.id_number == OWN_ID and newcomer.real_name == "陈研究员"
    number_event = [e for e in identity_events(newcomer) if e.data["field"] == "id_number"]
    assert [(e.before, e.after, e.actor_id) for e in number_event] == [
        ({"id_number": ""}, {"id_number": OWN_ID}, newcomer.pk)
    ]

    shown = client.get(reverse(PAGE)).content.decode()
    assert mask_id_number(OWN_ID) in shown and OWN_ID not in shown
    assert "ask bureau staff" in shown
    assert 'name="id_number"' not in shown


def test_once_set_the_applicant_cannot_change_it_and_is_told_why(client, newcomer):
    set_id_number(newcomer, OWN_ID, by=newcomer)
    events = len(identity_events(newcomer))
    client.force_login(newcomer)

    response = client.post(reverse(PAGE), {"real_name": "陈研究员", "id_number": OTHER_ID})

    assert response.status_code == 403
    assert "To change it, ask bureau staff" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.id_number == OWN_ID
    assert len(identity_events(newcomer)) == events


@pytest.mark.parametrize(
    "typed, message",
    [
        (OWN_ID[:17] + ("0" if OWN_ID[17] != "0" else "1"), "check digit"),
        ("12345", "18 characters"),
        ("፩፪0127199002150000", "18 characters"),  # Ethiopic numerals: refused, not a 500
        (OWN_ID[:16] + "\x00" + OWN_ID[17], "18 characters"),
    ],
)
def test_a_wrong_number_comes_back_with_what_was_typed_and_an_error(
    client, newcomer, typed, message
):
    client.force_login(newcomer)
    response = client.post(reverse(PAGE), {"real_name": "陈研究员", "id_number": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="陈研究员"' in html
    if "\x00" not in typed:
        assert f'value="{typed}"' in html
    newcomer.refresh_from_db()
    assert newcomer.id_number == "" and newcomer.real_name == ""
    assert identity_events(newcomer) == []


def test_the_real_name_is_asked_for_while_it_is_missing(client, newcomer):
    client.force_login(newcomer)
    response = client.post(reverse(PAGE), {"real_name": "", "id_number": OWN_ID})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.id_number == ""


def test_the_name_is_not_asked_again_once_known(client, county):
    user = county.users["applicant2"]
    User.objects.filter(pk=user.pk).update(id_number="")
    client.force_login(user)
    page = client.get(reverse(PAGE)).content.decode()
    assert 'name="real_name"' not in page and "刘工程师" in page
    assert client.post(reverse(PAGE), {"id_number": OWN_ID}).status_code == 302
    user.refresh_from_db()
    assert user.id_number == OWN_ID and user.real_name == "刘工程师"


def test_the_page_needs_a_sign_in_and_the_nav_links_to_it(client, county):
    assert client.get(reverse(PAGE)).status_code == 302
    assert reverse(PAGE) not in client.get(reverse("notices")).content.decode()
    client.force_login(county.users["expert1"])
    assert reverse(PAGE) in client.get(reverse("notices")).content.decode()


# --- the services ------------------------------------------------------------------------


def test_staff_change_an_id_number_only_with_a_written_reason(county, newcomer):
    staff = county.users["staff"]
    set_id_number(newcomer, OWN_ID, by=newcomer)

    with pytest.raises(PermissionDenied):
        set_id_number(newcomer, OTHER_ID, by=newcomer)
    with pytest.raises(ValidationError, match="written reason"):
        set_id_number(newcomer, OTHER_ID, by=staff, reason="  ")

    set_id_number(newcomer, full_width(OTHER_ID), by=staff, reason="原号码为他人号码")
    newcomer.refresh_from_db()
    assert newcomer.id_number == OTHER_ID
    last = identity_events(newcomer)[-1]
    assert last.before == {"id_number": OWN_ID} and last.after == {"id_number": OTHER_ID}
    assert last.data["reason"] == "原号码为他人号码" and last.actor_id == staff.pk


def test_nobody_but_staff_puts_an_id_number_on_someone_else(county, newcomer):
    for someone in ("applicant2", "integrity", "leader"):
        with pytest.raises(PermissionDenied):
            set_id_number(newcomer, OWN_ID, by=county.users[someone], reason="帮忙填写")
    newcomer.refresh_from_db()
    assert newcomer.id_number == ""


def test_the_same_number_typed_differently_is_no_change(county):
    user = county.users["applicant"]
    set_id_number(user, f" {full_width(user.id_number.lower())} ", by=county.users["staff"])
    assert identity_events(user) == []


def test_a_credit_code_is_changed_by_staff_with_a_reason(county):
    org, staff = county.orgs["enterprise"], county.users["staff"]
    new_code = demo.credit_code(88)
    with pytest.raises(PermissionDenied):
        set_credit_code(org, new_code, by=county.users["applicant2"], reason="更名")
    with pytest.raises(ValidationError, match="already has this credit code"):
        set_credit_code(org, county.orgs["institute"].credit_code, by=staff, reason="合并")

    set_credit_code(org, new_code.lower(), by=staff, reason="营业执照换发")
    org.refresh_from_db()
    assert org.credit_code == new_code
    [event] = identity_events(org)
    assert event.after == {"credit_code": new_code} and event.data["reason"] == "营业执照换发"


def test_an_account_created_with_an_id_number_is_journaled(county):
    staff = county.users["staff"]
    user = create_account("expert9", "a-long-pass-2026", by=staff, id_number=arabic_indic(OWN_ID))
    assert user.id_number == OWN_ID and user.check_password("a-long-pass-2026")
    [event] = identity_events(user)
    assert event.before == {"id_number": ""} and event.actor_id == staff.pk

    with pytest.raises(PermissionDenied):
        create_account("sneaky", "x-long-pass-2026", by=county.users["applicant"])
