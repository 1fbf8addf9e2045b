"""The trail: an append-only, hash-chained journal whose tampering `verify_trail` finds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Organisation
from trail.kinds import EventKind
from trail.models import Event
from trail.services import GENESIS, event_hash, history_of, record
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.usefixtures("english")

TABLE = Event._meta.db_table


@pytest.fixture
def journal(county, draft):
    """A few real events: project created, submitted, recommended, accepted, returned,
    resubmitted."""
    staff = county.users["staff"]
    perform(draft.pk, "submit", draft.pi, commitment=True)
    perform(draft.pk, "recommend_by_unit", county.users["unit1"])
    perform(draft.pk, "accept_application", staff)
    perform(draft.pk, "return_for_revision", staff, reason="预算说明不完整")
    perform(draft.pk, "submit", draft.pi, commitment=True)
    assert Event.objects.count() >= 5
    return draft


def verify() -> str:
    out = StringIO()
    call_command("verify_trail", stdout=out, stderr=out)
    return out.getvalue()


def verify_fails() -> str:
    err = StringIO()
    with pytest.raises(CommandError, match="trail verification failed"):
        call_command("verify_trail", stdout=StringIO(), stderr=err)
    return err.getvalue()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_each_event_points_at_the_hash_of_the_one_before(journal):
    events = list(Event.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert all(event_hash(e) == e.hash for e in events)


def test_the_project_history_reads_in_order(journal):
    kinds = list(history_of(journal).values_list("kind", "data__transition"))
    assert kinds == [
        (EventKind.PROJECT_CREATED, None),
        (EventKind.PROJECT_TRANSITION, "submit"),
        (EventKind.PROJECT_TRANSITION, "recommend_by_unit"),
        (EventKind.PROJECT_TRANSITION, "accept_application"),
        (EventKind.PROJECT_TRANSITION, "return_for_revision"),
        (EventKind.PROJECT_TRANSITION, "submit"),
    ]


def test_verify_trail_passes_on_an_intact_chain(journal):
    assert f"trail intact: {Event.objects.count()} events" in verify()


def test_verify_trail_passes_on_an_empty_journal(db):
    assert "trail intact: 0 events" in verify()


@pytest.mark.parametrize("column", ["data", "after"])
def test_an_edited_event_is_found(journal, column):
    target = Event.objects.get(seq=3)
    sql(f"UPDATE {TABLE} SET {column} = %s WHERE seq = %s", ['{"status": "approved"}', 3])
    assert getattr(Event.objects.get(seq=3), column) != getattr(target, column)
    assert "event 3: content does not match its hash (edited)" in verify_fails()


def test_an_edit_through_the_orm_update_is_found_too(journal):
    Event.objects.filter(seq=2).update(actor_name="someone else")
    assert "event 2: content does not match its hash (edited)" in verify_fails()


def test_a_deleted_event_is_found(journal):
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    report = verify_fails()
    assert "event 4: events 3..3 are missing" in report
    assert "event 4: does not follow the previous event" in report


def test_reordered_events_are_found(journal):
    # Swap seq 2 and 3 through a spare value (seq is unique).
    sql(f"UPDATE {TABLE} SET seq = -1 WHERE seq = 2")
    sql(f"UPDATE {TABLE} SET seq = 2 WHERE seq = 3")
    sql(f"UPDATE {TABLE} SET seq = 3 WHERE seq = -1")
    report = verify_fails()
    assert "event 2: does not follow the previous event (deleted or reordered)" in report
    assert "event 3: does not follow the previous event (deleted or reordered)" in report


def test_a_truncated_tail_is_found(journal):
    newest = Event.objects.order_by("seq").last()
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [newest.seq])
    assert "the newest events are missing (truncated)" in verify_fails()


def test_events_cannot_be_changed_or_deleted_through_the_model(journal):
    event = Event.objects.get(seq=2)
    event.data = {"forged": True}
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()
    assert Event.objects.get(seq=2).data != {"forged": True}
    verify()


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    org = Organisation.objects.create(
        name="某公司", credit_code=demo.credit_code(99), kind=Organisation.Kind.ENTERPRISE
    )
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        record(EventKind.PROJECT_CREATED, org)
    assert not Event.objects.exists()
