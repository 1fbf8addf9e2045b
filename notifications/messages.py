"""The words of every notification, by message key, rendered when read.

A notification stores its key and parameters (notifications.models); the title and body
are made here in the language active when shown: the reader's in the centre, the site's
(LANGUAGE_CODE) in an e-mail. A key no longer listed still shows, with a generic title.
Parameters: `title` is the project's title, `due` a date (ISO), the rest as named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oversight.models import ProgressReport


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    # Parameters stored as a choice's value, shown as its label in the reader's language.
    labels: dict[str, type[models.TextChoices]] = field(default_factory=dict)


MESSAGES: dict[str, Message] = {
    # --- tasks assigned ---
    "submitted": Message(
        _("Application to recommend: “%(title)s”"),
        _(
            "“%(title)s” was submitted and waits for the unit's word: recommend it to the "
            "bureau, or return it to the applicant with a reason."
        ),
    ),
    "recommended": Message(
        _("Application to accept: “%(title)s”"),
        _("The unit recommended “%(title)s”. Check it and accept it, or return it for revision."),
    ),
    "review_assigned": Message(
        _("Review assigned: “%(title)s”"),
        _(
            "You are assigned to review “%(title)s”. Open the project page to declare no "
            "conflict of interest and review it, or to decline."
        ),
    ),
    "to_approve": Message(
        _("Project to approve: “%(title)s”"),
        _(
            "The budget review of “%(title)s” is concluded (approved amount: %(approved_amount)s "
            "yuan). Approve the project, or reject it."
        ),
    ),
    "override_requested": Message(
        _("Veto override to decide: “%(title)s”"),
        _(
            "Bureau staff ask to let “%(title)s” pass a gate the integrity register bars. "
            "Reason: %(reason)s. Approve it on the project page, or leave it unapproved."
        ),
    ),
    "case_proposed": Message(
        _("Misconduct case proposed"),
        _(
            "The system proposed a misconduct case for your decision: open an investigation "
            "or dismiss the proposal on the case page."
        ),
    ),
    "acceptance_requested": Message(
        _("Acceptance requested: “%(title)s”"),
        _(
            "The PI asked for completion acceptance of “%(title)s”. Appoint the special audit, "
            "or send the project to its acceptance review."
        ),
    ),
    "audit_appointed": Message(
        _("Special audit: “%(title)s”"),
        _(
            "You lead the special audit of “%(title)s” for %(firm)s. Attach the audit report "
            "and issue the opinion on the project page."
        ),
    ),
    "panel_drawn": Message(
        _("Acceptance panel: “%(title)s”"),
        _(
            "You are drawn to the acceptance panel of “%(title)s”. Open the project page to "
            "record your verdict."
        ),
    ),
    "objection": Message(
        _("Objection lodged: “%(title)s”"),
        _(
            "An objection was lodged against “%(title)s” during its public notice. Check it "
            "and record the finding on the project page."
        ),
    ),
    "adjustment_pending": Message(
        _("Budget adjustment to decide: “%(title)s”"),
        _(
            "The PI asks to move %(amount)s yuan between budget lines. Reason: %(reason)s. "
            "Approve or reject it on the project page."
        ),
    ),
    "rectification": Message(
        _("Rectification requested: “%(title)s”"),
        _("The supervision firm asks your unit to rectify by %(rectify_by)s: %(finding)s"),
    ),
    "rectification_reopened": Message(
        _("Rectification reopened: “%(title)s”"),
        _(
            "The supervision firm reopened a rectification request (rectify by "
            "%(rectify_by)s). Reason: %(reason)s"
        ),
    ),
    "case_notice": Message(
        _("A misconduct case concerns you"),
        _(
            "The integrity officer notifies you of a misconduct case. Read the allegation on "
            "the case page and state your case by %(reply_by)s."
        ),
    ),
    "override_approved": Message(
        _("Veto override approved: “%(title)s”"),
        _(
            "Leadership approved the override you asked for on “%(title)s”; the gate it "
            "answers may now be passed once."
        ),
    ),
    # --- returns and refusals ---
    "returned_by_unit": Message(
        _("Returned by your unit: “%(title)s”"),
        _("Your unit returned the application for revision. Reason: %(reason)s"),
    ),
    "returned": Message(
        _("Returned for revision: “%(title)s”"),
        _("The bureau returned your application for revision. Reason: %(reason)s"),
    ),
    "rejected": Message(
        _("Not approved: “%(title)s”"),
        _("The application was rejected. Reason: %(reason)s"),
    ),
    "vetoed": Message(
        _("One-vote veto: “%(title)s”"),
        _(
            "The application was ended by the one-vote veto: the integrity register bars a "
            "person or organisation on it."
        ),
    ),
    "adjustment_rejected": Message(
        _("Budget adjustment rejected: “%(title)s”"),
        _("Your unit rejected moving %(amount)s yuan between budget lines."),
    ),
    # --- decisions ---
    "approved": Message(
        _("Approved: “%(title)s”"),
        _("Your project is approved and on public notice until %(notice_ends_on)s."),
    ),
    "adjustment_applied": Message(
        _("Budget adjustment approved: “%(title)s”"),
        _("Your unit approved moving %(amount)s yuan between budget lines."),
    ),
    "accepted": Message(
        _("Acceptance passed: “%(title)s”"),
        _("The acceptance review concluded that the project passes."),
    ),
    "reconsider": Message(
        _("Acceptance needs reconsideration: “%(title)s”"),
        _(
            "The acceptance review asks for one rectification: rectify by %(rectify_by)s and "
            "resubmit for acceptance."
        ),
    ),
    "failed": Message(
        _("Acceptance failed: “%(title)s”"),
        _(
            "The acceptance review concluded that the project fails; disbursed funds not "
            "spent are to be recovered."
        ),
    ),
    "failed_late": Message(
        _("Acceptance failed: “%(title)s”"),
        _(
            "The rectification deadline (%(rectify_by)s) passed without a resubmission: the "
            "project fails acceptance. Reason: %(reason)s"
        ),
    ),
    "suspended": Message(
        _("Suspended: “%(title)s”"),
        _("The project is suspended. Reason: %(reason)s"),
    ),
    "terminated": Message(
        _("Terminated: “%(title)s”"),
        _(
            "The project is terminated; disbursed funds not spent are to be recovered. "
            "Reason: %(reason)s"
        ),
    ),
    "certificate": Message(
        _("Certificate issued: “%(title)s”"),
        _(
            "The acceptance certificate is issued and the project archived. Download it from "
            "the project page."
        ),
    ),
    "case_decided": Message(
        _("Decision in the misconduct case concerning you"),
        _(
            "The integrity officer decided the case (decision %(decision)s). Read it on the "
            "case page; it says how and by when you may appeal."
        ),
    ),
    "case_cleared": Message(
        _("Misconduct case closed"),
        _("The case concerning you is closed: no misconduct was found."),
    ),
    "case_upheld": Message(
        _("Your appeal or review was answered: the decision stands"),
        _("The decision in the case concerning you is upheld. Reason: %(reason)s"),
    ),
    "case_revoked": Message(
        _("Your appeal or review was answered: the decision is revoked"),
        _("The decision in the case concerning you is revoked, and its sanction lifted."),
    ),
    # --- deadlines (notifications.deadlines) ---
    "review_soon": Message(
        _("Due soon: your review of “%(title)s”"),
        _(
            "Your review of “%(title)s” is due on %(due)s. Open the project page to declare "
            "no conflict of interest and review it, or to decline."
        ),
    ),
    "review_late": Message(
        _("Overdue: your review of “%(title)s”"),
        _(
            "Your review of “%(title)s” is due on %(due)s. Open the project page to declare "
            "no conflict of interest and review it, or to decline."
        ),
    ),
    "report_soon": Message(
        _("Due soon: %(kind)s for “%(title)s”"),
        _("The %(kind)s is due on %(due)s. Submit it on the project page."),
        labels={"kind": ProgressReport.Kind},
    ),
    "report_late": Message(
        _("Overdue: %(kind)s for “%(title)s”"),
        _("The %(kind)s is due on %(due)s. Submit it on the project page."),
        labels={"kind": ProgressReport.Kind},
    ),
    "rectification_soon": Message(
        _("Rectification due soon: “%(title)s”"),
        _("Your unit is to rectify by %(due)s: %(finding)s"),
    ),
    "rectification_late": Message(
        _("Rectification overdue: “%(title)s”"),
        _("Your unit was to rectify by %(due)s: %(finding)s"),
    ),
    "acceptance_soon": Message(
        _("Completion acceptance due: “%(title)s”"),
        _(
            "The project ended on %(end)s. Ask for completion acceptance by %(due)s, with the "
            "final tech report."
        ),
    ),
    "acceptance_late": Message(
        _("Completion acceptance overdue: “%(title)s”"),
        _(
            "The project ended on %(end)s; completion acceptance was to be requested by "
            "%(due)s. Ask for it now: a long delay is referred to the integrity officer."
        ),
    ),
}


class _Params(dict):
    """A missing parameter shows as nothing rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return ""


def _params(message: Message, stored: dict) -> _Params:
    params = _Params(stored or {})
    for name, choices in message.labels.items():
        if params.get(name) in choices.values:
            params[name] = choices(params[name]).label
    return params


def _render(template, message: Message, stored: dict) -> str:
    try:
        return str(template) % _params(message, stored)
    except (TypeError, ValueError):  # a translation with a broken placeholder
        return str(template)


def render_title(notification) -> str:
    message = MESSAGES.get(notification.message)
    if message is None:
        return gettext("Notification")
    return " ".join(_render(message.title, message, notification.params).split())


def render_body(notification) -> str:
    message = MESSAGES.get(notification.message)
    if message is None:
        return ""
    return _render(message.body, message, notification.params)
