"""The read API: paginated, throttled, its schema for signed-in callers only, and API
tokens with read-only scopes, issued and revoked (journaled) through the admin and the
command. Bad input of any kind is a 4xx, never a server error."""

from __future__ import annotations

import datetime
import hashlib
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.api_tokens import ApiToken, issue_api_token, revoke_api_token
from funding.models import Project
from trail.kinds import EventKind
from trail.models import Event
from trail.services import verify_chain
from workflows import demo

pytestmark = pytest.mark.usefixtures("english")

PROJECTS = "/api/projects/"
SCHEMA = "/api/schema/"
JSON = "application/json"
ADD = "/admin/accounts/apitoken/"
TOKEN_SHAPE = re.compile(r"kjjg_[0-9a-f]{8}\.[A-Za-z0-9_-]+")


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttles count in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-pass")


@pytest.fixture
def two_orgs(county):
    """One project of `applicant`'s institute, one of `applicant2`'s enterprise."""
    mine = demo.draft_project(county, "applicant", "本单位项目", "200000")
    theirs = demo.draft_project(county, "applicant2", "他单位项目", "200000")
    return mine, theirs


def token_for(user, *scopes, **kwargs) -> str:
    return issue_api_token(user, "ERP", list(scopes or ["projects:read"]), by=None, **kwargs)[1]


def bearer(token: str, accept: str = "*/*", keyword: str = "Bearer") -> dict:
    return {"Authorization": f"{keyword} {token}", "Accept": accept}


def titles(response) -> list[str]:
    return [p["title"] for p in response.json()["results"]]


def events(kind: EventKind):
    return Event.objects.filter(kind=kind.value, object_type="accounts.apitoken")


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


# --- pagination -----------------------------------------------------------------------


@pytest.fixture
def many_projects(draft):
    """205 projects of one institute (copies of a draft; the list only reads them)."""
    copies = []
    for n in range(204):
        copy = Project.objects.get(pk=draft.pk)
        copy.pk = None
        copy.title = f"项目{n:03d}"
        copies.append(copy)
    Project.objects.bulk_create(copies)
    return Project.objects.count()


def test_the_list_comes_in_pages_of_50_and_page_size_is_capped_at_200(client, staff, many_projects):
    client.force_login(staff)
    first = client.get(PROJECTS).json()
    assert (first["count"], len(first["results"])) == (many_projects, 50)
    assert "page=2" in first["next"]
    assert len(client.get(PROJECTS, {"page_size": 10_000}).json()["results"]) == 200
    two = client.get(PROJECTS, {"page_size": 2}).json()
    following = client.get(PROJECTS, {"page_size": 2, "page": 2}).json()
    assert len(two["results"]) == 2
    assert {p["id"] for p in two["results"]}.isdisjoint(p["id"] for p in following["results"])
    last = client.get(PROJECTS, {"page": "last"}).json()
    assert len(last["results"]) == many_projects - 4 * 50


@pytest.mark.parametrize("size", ["abc", "-1", "0", "1.5", "9" * 5000, "\x00"])
def test_a_page_size_that_is_no_positive_number_gives_the_default_page(
    client, staff, many_projects, size
):
    client.force_login(staff)
    response = client.get(PROJECTS, {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("page", ["999", "0", "-1", "abc", "1e400", "\x00", "9" * 5000, "1.5"])
def test_a_page_that_does_not_exist_is_a_404_with_a_message(client, staff, draft, page):
    client.force_login(staff)
    response = client.get(PROJECTS, {"page": page})
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid page."


# --- throttling -----------------------------------------------------------------------


def test_a_user_over_the_rate_gets_429_with_a_clear_message(client, applicant, staff, settings):
    settings.API_USER_RATE = "3/hour"
    token = token_for(applicant)
    client.force_login(applicant)
    # The session and the user's token count together: the rate is per user.
    assert [client.get(PROJECTS).status_code for _ in range(2)] == [200, 200]
    assert client.get(PROJECTS, headers=bearer(token)).status_code == 200
    refused = client.get(PROJECTS, headers=bearer(token))
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests to the API.")
    assert "seconds" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert client.get(SCHEMA).status_code == 429  # the whole API, not one address
    client.force_login(staff)  # someone else is not slowed down
    assert client.get(PROJECTS).status_code == 200


def test_an_anonymous_caller_is_throttled_per_address(client, db, settings):
    settings.API_ANON_RATE = "2/hour"
    assert [client.get(PROJECTS).status_code for _ in range(2)] == [401, 401]
    refused = client.get(PROJECTS)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests to the API.")


# --- the schema -----------------------------------------------------------------------


def test_the_schema_is_not_shown_to_anonymous_callers(client, db):
    response = client.get(SCHEMA)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"openapi" not in response.content


def test_a_signed_in_user_reads_the_schema_with_the_token_scheme(client, applicant):
    client.force_login(applicant)
    response = client.get(SCHEMA)
    assert response.status_code == 200
    text = response.content.decode()
    assert "openapi:" in text and "/api/projects/" in text
    assert "apiToken" in text and "bearer" in text


def test_a_token_reads_the_schema_only_with_schema_read(client, applicant):
    assert (
        client.get(SCHEMA, headers=bearer(token_for(applicant, "schema:read"))).status_code == 200
    )
    refused = client.get(SCHEMA, headers=bearer(token_for(applicant, "projects:read"), JSON))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This API token lacks the scope schema:read."


# --- tokens ---------------------------------------------------------------------------


def test_an_applicants_token_sees_exactly_what_the_applicant_sees(client, applicant, two_orgs):
    mine, theirs = two_orgs
    token = token_for(applicant)
    assert titles(client.get(PROJECTS, headers=bearer(token))) == ["本单位项目"]
    assert titles(client.get(PROJECTS, headers=bearer(token, keyword="Token"))) == ["本单位项目"]
    assert client.get(f"{PROJECTS}{mine.pk}/", headers=bearer(token)).json()["id"] == mine.pk
    assert client.get(f"{PROJECTS}{theirs.pk}/", headers=bearer(token)).status_code == 404


def test_a_staff_token_sees_every_project(client, staff, two_orgs):
    assert sorted(titles(client.get(PROJECTS, headers=bearer(token_for(staff))))) == sorted(
        ["本单位项目", "他单位项目"]
    )


def test_only_the_hash_of_a_token_is_stored_and_use_is_noted_once_a_minute(client, applicant):
    full = token_for(applicant)
    token = ApiToken.objects.get()
    assert token.secret_hash == hashlib.sha256(full.encode()).hexdigest()
    assert full.split(".")[1] not in str(ApiToken.objects.values().get())
    assert token.last_used_at is None
    client.get(PROJECTS, headers=bearer(full))
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    client.get(PROJECTS, headers=bearer(full))
    assert ApiToken.objects.get().last_used_at == first_use
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ApiToken.objects.update(last_used_at=long_ago)
    client.get(PROJECTS, headers=bearer(full))
    assert ApiToken.objects.get().last_used_at > long_ago


def refusal(client, token: str) -> str:
    client.cookies["django_language"] = "en"  # logout() clears cookies; read in English
    response = client.get(PROJECTS, headers=bearer(token))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    return response.json()["detail"]


def test_revoked_expired_and_unknown_tokens_are_refused_with_401(client, applicant, staff):
    revoked = token_for(applicant)
    revoke_api_token(ApiToken.objects.get(), staff, "The ERP was replaced.")
    assert refusal(client, revoked) == "This API token was revoked."

    soon = timezone.now() + datetime.timedelta(days=1)
    expired = token_for(applicant, expires_at=soon)
    ApiToken.objects.filter(expires_at=soon).update(expires_at=timezone.now())
    assert refusal(client, expired).startswith("This API token expired on ")

    good = token_for(applicant)
    prefix, secret = good.split(".")
    for unknown in [f"{prefix}.{secret[::-1]}", f"kjjg_00000000.{secret}", "nonsense", "kjjg_"]:
        assert refusal(client, unknown) == "Unknown API token."
    assert client.get(PROJECTS, headers=bearer(good)).status_code == 200


def test_a_token_of_a_deactivated_account_is_refused(client, applicant):
    token = token_for(applicant)
    get_user_model().objects.filter(pk=applicant.pk).update(is_active=False)
    assert refusal(client, token) == "The account this API token acts for is inactive."


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer \xe9\xff", "Token \x00", "Bearer kjjg_12345678.\x00"],
)
def test_a_malformed_authorization_header_is_a_401(client, db, header):
    response = client.get(PROJECTS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_without_the_views_scope_is_refused_with_403(client, applicant, two_orgs):
    response = client.get(PROJECTS, headers=bearer(token_for(applicant, "schema:read")))
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token lacks the scope projects:read."


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_changes_nothing(client, applicant, staff, two_orgs, method):
    mine, _theirs = two_orgs
    token = token_for(applicant, "projects:read", "schema:read")
    for url in [PROJECTS, f"{PROJECTS}{mine.pk}/", SCHEMA]:
        send = getattr(client, method)
        response = send(url, {"title": "改"}, content_type=JSON, headers=bearer(token, JSON))
        assert response.status_code == 403
        assert response.json()["detail"] == "API tokens only read; this method is not allowed."
    client.force_login(staff)
    for url in [PROJECTS, f"{PROJECTS}{mine.pk}/"]:
        response = getattr(client, method)(url, {"title": "改"}, content_type="application/json")
        assert response.status_code == 405
    assert Project.objects.get(pk=mine.pk).title == "本单位项目"


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{PROJECTS}abc/",
        f"{PROJECTS}99999999999999999999999/",
        f"{PROJECTS}{'9' * 5000}/",
        f"{PROJECTS}-1/",
        f"{PROJECTS}%00/",
        f"{PROJECTS}1%00/",
        f"{PROJECTS}?format=%00",
        f"{PROJECTS}?format=xml",
        f"{PROJECTS}?page=%00&page_size=%00",
        f"{PROJECTS}?page=1&page=2&page_size=1&page_size=x",
        f"{SCHEMA}?format=%00",
        f"{SCHEMA}?lang=%00",
    ],
)
def test_bad_addresses_and_queries_are_never_a_server_error(client, staff, draft, url):
    client.force_login(staff)
    assert client.get(url).status_code in (200, 404)


# --- issuing and revoking: the admin ---------------------------------------------------


def add_token(client, user, **changes):
    data = {"name": "档案系统", "user": user.pk, "scopes": ["projects:read"]}
    data.update(changes)
    return client.post(f"{ADD}add/", data, follow=True)


def test_the_admin_issues_a_token_once_through_the_service_and_journals_it(
    client, root, applicant, two_orgs
):
    client.force_login(root)
    page = add_token(
        client,
        applicant,
        scopes=["projects:read", "schema:read"],
        expires_at_0="2099-12-31",
        expires_at_1="00:00:00",
    ).content.decode()
    full = TOKEN_SHAPE.search(page).group()
    assert "it will not be shown again" in page
    token = ApiToken.objects.get()
    assert (token.name, token.user, token.issued_by) == ("档案系统", applicant, root)
    assert token.scopes == ["projects:read", "schema:read"]
    issued = events(EventKind.API_TOKEN_ISSUED).get()
    assert (issued.actor_id, issued.object_id) == (root.pk, str(token.pk))
    assert issued.after["user"] == "applicant" and full not in str(issued.after)
    # Shown once: the token's own page has the hash, never the secret.
    detail = client.get(f"{ADD}{token.pk}/change/").content.decode()
    assert token.secret_hash in detail and full not in detail
    client.logout()
    assert titles(client.get(PROJECTS, headers=bearer(full))) == ["本单位项目"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"scopes": []}, "This field is required."),
        ({"scopes": ["projects:write"]}, "Select a valid choice."),
        ({"name": "ERP\x00"}, "Null characters are not allowed."),
        ({"name": "ERP\x07"}, "Remove the control character U+0007"),
        ({"name": "ERP\nsystem"}, "without line breaks"),
        ({"name": "  "}, "This field is required."),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"expires_at_0": "2001-01-01", "expires_at_1": "00:00"}, "must be in the future"),
        ({"expires_at_0": "2099-02-30", "expires_at_1": "00:00"}, "Enter a valid date"),
    ],
)
def test_the_admin_refuses_a_bad_token_on_the_form(client, root, applicant, changes, message):
    client.force_login(root)
    response = add_token(client, applicant, **changes)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    if "name" not in changes:  # what was typed comes back
        assert 'value="档案系统"' in page
    assert not ApiToken.objects.exists() and not events(EventKind.API_TOKEN_ISSUED).exists()


def test_the_admin_refuses_a_token_for_an_inactive_account(client, root, applicant):
    get_user_model().objects.filter(pk=applicant.pk).update(is_active=False)
    client.force_login(root)
    response = add_token(client, applicant)
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_bureau_staff_with_the_admin_right_issue_tokens_but_not_for_a_superuser(
    client, root, staff, applicant
):
    grant(staff, "add_apitoken", "view_apitoken")
    client.force_login(staff)
    response = add_token(client, root)
    assert "Only a superuser may issue a token acting as a superuser." in response.content.decode()
    assert not ApiToken.objects.exists()
    add_token(client, applicant)
    assert events(EventKind.API_TOKEN_ISSUED).get().actor_id == staff.pk


def test_other_admin_users_may_not_issue_tokens(client, county):
    officer = county.users["integrity"]  # has the admin, but is not bureau staff
    grant(officer, "add_apitoken", "view_apitoken", "change_apitoken")
    client.force_login(officer)
    assert client.get(f"{ADD}add/").status_code == 403
    assert add_token(client, county.users["applicant"]).status_code == 403
    client.force_login(county.users["staff"])  # bureau staff without the admin right
    assert client.get(f"{ADD}add/").status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_is_never_edited_or_deleted_in_the_admin(client, root, applicant):
    token_for(applicant)
    token = ApiToken.objects.get()
    client.force_login(root)
    changed = {"name": "changed", "scopes": ["schema:read"]}
    assert client.post(f"{ADD}{token.pk}/change/", changed).status_code == 403
    assert client.post(f"{ADD}{token.pk}/delete/", {"post": "yes"}).status_code == 403
    token.refresh_from_db()
    assert (token.name, token.scopes) == ("ERP", ["projects:read"])


def revoke_in_admin(client, *tokens: ApiToken, reason: str):
    data = {"action": "revoke_tokens", "_selected_action": [t.pk for t in tokens]}
    return client.post(ADD, {**data, "reason": reason}, follow=True)


def test_the_admin_revokes_with_a_reason_through_the_service(client, root, applicant):
    full = token_for(applicant)
    token = ApiToken.objects.get()
    client.force_login(root)
    listing = client.get(ADD).content.decode()
    assert 'name="reason"' in listing and "Revoke the selected tokens" in listing
    for reason, message in [
        ("  ", "Give a written reason for revoking the token."),
        ("a\x00b", "Remove the control character U+0000"),
        ("x" * 20_001, "at most 20000 characters"),
    ]:
        page = revoke_in_admin(client, token, reason=reason).content.decode()
        assert message in page
    assert ApiToken.objects.get().revoked_at is None
    assert not events(EventKind.API_TOKEN_REVOKED).exists()

    page = revoke_in_admin(client, token, reason="The archive system was retired.").content
    assert "1 token revoked." in page.decode()
    revoked = events(EventKind.API_TOKEN_REVOKED).get()
    assert (revoked.actor_id, revoked.data["reason"]) == (
        root.pk,
        "The archive system was retired.",
    )
    client.logout()
    assert refusal(client, full) == "This API token was revoked."

    client.force_login(root)
    page = revoke_in_admin(client, token, reason="Again.").content.decode()
    assert "This token was already revoked." in page
    assert events(EventKind.API_TOKEN_REVOKED).count() == 1
    assert verify_chain() == []


def test_only_token_managers_see_the_revoke_action(client, county, applicant):
    token_for(applicant)
    officer = county.users["integrity"]
    grant(officer, "view_apitoken", "change_apitoken")
    client.force_login(officer)
    revoke_in_admin(client, ApiToken.objects.get(), reason="Because.")
    assert ApiToken.objects.get().revoked_at is None
    assert not events(EventKind.API_TOKEN_REVOKED).exists()


# --- issuing: the command -------------------------------------------------------------


def issue(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    assert "not shown again" in err.getvalue()
    return out.getvalue().strip()


def test_the_command_prints_the_token_once_and_journals_it(client, applicant, staff, two_orgs):
    full = issue("--user", "applicant", "--name", "ERP", "--scope", "projects:read")
    assert TOKEN_SHAPE.fullmatch(full)
    assert titles(client.get(PROJECTS, headers=bearer(full))) == ["本单位项目"]
    assert events(EventKind.API_TOKEN_ISSUED).get().actor_id is None  # the operator's shell
    issue(
        "--user",
        "applicant",
        "--name",
        "BI",
        "--scope",
        "schema:read",
        "--scope",
        "projects:read",
        "--expires",
        "2099-06-30",
        "--by",
        "staff",
    )
    token = ApiToken.objects.get(name="BI")
    assert token.scopes == ["projects:read", "schema:read"] and token.issued_by == staff
    assert timezone.localtime(token.expires_at).date() == datetime.date(2099, 6, 30)
    assert events(EventKind.API_TOKEN_ISSUED).filter(actor_id=staff.pk).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--user", "nobody"], "--user: no account named nobody."),
        (["--user", "applicant", "--by", "applicant"], "Only superusers and bureau staff"),
        (["--user", "applicant", "--by", "integrity"], "Only superusers and bureau staff"),
        (["--user", "applicant", "--expires", "2001-01-01"], "The expiry must be in the future."),
        (["--user", "applicant", "--expires", "2099-02-30"], "--expires: give a date"),
        (["--user", "applicant", "--expires", "\x00"], "--expires: give a date"),
        (["--user", "applicant", "--name", "E\x00RP"], "control character"),
        (["--user", "applicant", "--scope", "projects:write"], "invalid choice"),
    ],
)
def test_the_command_refuses_bad_input_and_stores_nothing(county, args, message):
    defaults = {"--name": "ERP", "--scope": "projects:read"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    full_args = [x for key, value in {**defaults, **given}.items() for x in (key, value)]
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("issue_api_token", *full_args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists() and not events(EventKind.API_TOKEN_ISSUED).exists()
