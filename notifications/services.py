"""Making notifications and reading them.

Made from a trail event once its transaction commits (notifications.receivers, rules),
or from a deadline (notifications.deadlines); each is stored once per person (a unique
pair: the event or the day's reminder, and the recipient) and, if the person takes that
category by e-mail and has an address, its e-mail is queued for Celery after the rows
commit (notifications.tasks). Nothing here runs inside the action that caused it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from funding.models import Project
from integrity.models import MisconductCase
from oversight.models import AcceptancePanel
from trail.models import Event

from .models import EmailPreference, EmailStatus, Notification
from .recipients import Subject, everyone_but
from .rules import rules_for

# Event data copied into a notification's parameters (notifications.messages uses them).
PARAMS = (
    "reason",
    "notice_ends_on",
    "rectify_by",
    "reply_by",
    "decision",
    "amount",
    "approved_amount",
    "firm",
)
TEXT_MAX = 500  # a longer reason or finding is cut in the notice; the page has it whole


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def address_of(user: User) -> str:
    """Where a person's e-mail goes: an expert's profile address, else the account's (as
    the review reminders always did, funding.review_deadlines)."""
    profile = getattr(user, "expert_profile", None)
    return (getattr(profile, "email", "") or "") or user.email


def preference_of(user: User) -> EmailPreference:
    """The person's e-mail choices; a default (all on) when they never chose."""
    preference = getattr(user, "notification_preference", None)
    return preference if preference is not None else EmailPreference(user=user)


def wants_email(user: User, category: str) -> bool:
    return bool(address_of(user)) and preference_of(user).wants(category)


def recipients(users: QuerySet[User]) -> list[User]:
    """The users with what deciding on their e-mail needs, in one query."""
    return list(users.select_related("expert_profile", "notification_preference").order_by("pk"))


# --- from a trail event -------------------------------------------------------------------


def subject_of(event: Event) -> Subject:
    """The event with the project or case it concerns (None if gone)."""
    subject = Subject(event)
    if event.object_type == Project._meta.label_lower:
        subject.project = Project.objects.filter(pk=event.object_id).first()
    elif event.object_type == AcceptancePanel._meta.label_lower:
        subject.project = Project.objects.filter(pk=event.data.get("project")).first()
    elif event.object_type == MisconductCase._meta.label_lower:
        subject.case = (
            MisconductCase.objects.select_related("hearing").filter(pk=event.object_id).first()
        )
    return subject


def event_params(subject: Subject) -> dict:
    # `after` first: a reopened rectification's new deadline travels there.
    data = {**subject.event.after, **subject.event.data}
    params = {key: _short(data[key]) for key in PARAMS if data.get(key) not in (None, "", [])}
    if data.get("text"):  # a supervision finding's text
        params["finding"] = _short(data["text"])
    if subject.project is not None:
        params["title"] = subject.project.title
    return params


def notify_for_event(event_id: int) -> int:
    """Tell the people the rules name of event `event_id`; returns how many were told
    now (a second run for the same event tells nobody again)."""
    event = Event.objects.filter(pk=event_id).first()
    rules = rules_for(event) if event is not None else []
    if not rules:
        return 0
    subject = subject_of(event)
    params = event_params(subject)
    rows, told = [], set()
    for rule in rules:
        for user in recipients(everyone_but(subject, rule.who(subject))):
            if user.pk in told:  # two rows naming one person: the first says it
                continue
            told.add(user.pk)
            rows.append(
                Notification(
                    recipient=user,
                    event=event,
                    category=rule.category,
                    message=rule.message,
                    params=params,
                    link=rule.link(subject),
                )
            )
    return store(rows, Q(event=event))


# --- from a deadline ----------------------------------------------------------------------


@dataclass
class Reminder:
    """One deadline of one object, for the people who must meet it."""

    deadline: str  # review, report, rectification, acceptance
    obj: str  # "app.model:pk"
    due: datetime.date
    users: list[int]
    category: str
    params: dict = field(default_factory=dict)
    link: str = ""

    def message(self, today: datetime.date) -> str:
        return f"{self.deadline}_{'late' if self.due < today else 'soon'}"

    def dedupe(self, today: datetime.date) -> str:
        return f"{self.deadline}:{self.obj}:{today.isoformat()}"


def notify_deadlines(reminders: Iterable[Reminder], today: datetime.date) -> int:
    """One notification per person, reminder and day; returns how many were new."""
    reminders = list(reminders)
    ids = {pk for reminder in reminders for pk in reminder.users}
    users = {u.pk: u for u in recipients(User.objects.filter(pk__in=ids, is_active=True))}
    rows = [
        Notification(
            recipient=users[pk],
            category=reminder.category,
            message=reminder.message(today),
            params={**reminder.params, "due": reminder.due.isoformat()},
            link=reminder.link,
            dedupe=reminder.dedupe(today),
        )
        for reminder in reminders
        for pk in sorted(set(reminder.users))
        if pk in users
    ]
    return store(rows, Q(dedupe__in={row.dedupe for row in rows}))


# --- storing and queuing ------------------------------------------------------------------


def _key(recipient_id, event_id, dedupe) -> tuple:
    return recipient_id, event_id, dedupe


def store(rows: list[Notification], same: Q) -> int:
    """Insert the rows not stored yet (`same` finds those that may be) and queue their
    e-mails once the rows commit."""
    if not rows:
        return 0
    for row in rows:
        email = wants_email(row.recipient, row.category)
        row.email_status = EmailStatus.QUEUED if email else EmailStatus.NONE
    with transaction.atomic():
        stored = set(
            Notification.objects.filter(same).values_list("recipient_id", "event_id", "dedupe")
        )
        fresh = [r for r in rows if _key(r.recipient_id, r.event_id, r.dedupe) not in stored]
        # A run at the same moment may insert one first: the unique pairs keep it single.
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        wanted = {_key(r.recipient_id, r.event_id, r.dedupe) for r in fresh}
        queued = Notification.objects.filter(same, email_status=EmailStatus.QUEUED)
        for pk, *key in queued.values_list("pk", "recipient_id", "event_id", "dedupe"):
            if tuple(key) in wanted:
                queue_email(pk)
    return len(fresh)


def queue_email(notification_id: int) -> None:
    """Hand the e-mail to Celery after the commit; a broker that is down costs the e-mail
    (logged; the daily job queues it again), never the action."""
    from .tasks import send_notification_email

    transaction.on_commit(lambda: send_notification_email.delay(notification_id), robust=True)


STALLED_AFTER = datetime.timedelta(hours=1)


def requeue_stalled(now: datetime.datetime | None = None) -> int:
    """Queue again the e-mails still queued an hour on (a lost message, a broker down);
    the task skips one already sent, so this never sends twice."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = list(
        Notification.objects.filter(
            email_status=EmailStatus.QUEUED, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in stalled:
        queue_email(pk)
    return len(stalled)


# --- the centre ---------------------------------------------------------------------------


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of `user`'s own notifications read; None if it is not theirs."""
    notification = notifications_of(user).filter(pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
