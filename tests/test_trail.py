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


# --- events held to the end of the transaction (trail.buffer, issue 10) --------------------


def _note(obj, n) -> Event:
    return record(EventKind.PROJECT_EDITED, obj, data={"n": n})


def _notes() -> list:
    return [e.data.get("n") for e in Event.objects.filter(kind=EventKind.PROJECT_EDITED)]


def test_held_events_are_appended_in_order_when_the_block_ends(draft):
    from django.db import transaction

    from trail.buffer import hold_events

    newest = Event.objects.order_by("seq").last()
    with transaction.atomic():
        with hold_events():
            first, second = _note(draft, 1), _note(draft, 2)
            with hold_events():  # an inner block leaves the appending to the outer one
                third = _note(draft, 3)
            assert Event.objects.count() == newest.seq  # nothing appended yet
            assert first.pk is None and third.pk is None
        # Appended as the block ends, in the order recorded, on the instances returned.
        assert [first.seq, second.seq, third.seq] == [newest.seq + n for n in (1, 2, 3)]
        assert first.prev_hash == newest.hash
        assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert _notes() == [1, 2, 3]
    assert "trail intact" in verify()


def test_record_outside_a_held_block_appends_at_once(draft):
    from django.db import transaction

    with transaction.atomic():
        event = _note(draft, 1)
        assert event.pk is not None
        assert Event.objects.order_by("seq").last() == event
    assert "trail intact" in verify()


def test_a_block_left_by_an_error_appends_nothing(draft):
    from django.db import transaction

    from trail.buffer import hold_events

    before = Event.objects.count()
    with pytest.raises(ValueError), transaction.atomic(), hold_events():
        _note(draft, 1)
        raise ValueError("the change fails after its event was recorded")
    assert Event.objects.count() == before
    with transaction.atomic():  # nothing is left held for the next transaction
        assert _note(draft, 2).pk is not None
    assert _notes() == [2]
    assert "trail intact" in verify()


def test_an_event_recorded_in_a_savepoint_rolled_back_is_dropped(draft):
    from contextlib import suppress

    from django.db import transaction

    from trail.buffer import hold_events

    with transaction.atomic(), hold_events():
        _note(draft, 1)
        with suppress(ValueError), transaction.atomic():  # a savepoint, rolled back
            _note(draft, "rolled back")
            raise ValueError
        _note(draft, 2)
    assert _notes() == [1, 2]
    assert "trail intact" in verify()


def test_perform_appends_its_event_after_the_workflow_bookkeeping(county, draft):
    """The chain head is locked for the event's insert only (and then the commit)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        perform(draft.pk, "submit", draft.pi, commitment=True)
    statements = [q["sql"] for q in ctx.captured_queries]
    head = next(i for i, s in enumerate(statements) if "trail_chainhead" in s)
    assert any("viewflow_task" in s for s in statements[:head])  # the bookkeeping came first
    after = [s.split()[0].upper() for s in statements[head + 1 :]]
    assert after == ["INSERT", "RELEASE"], statements[head:]  # the event; the end of the block
    assert "INSERT INTO" in statements[head + 1] and "trail_event" in statements[head + 1]
    assert history_of(draft).last().data["transition"] == "submit"
