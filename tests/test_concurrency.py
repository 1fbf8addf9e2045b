"""Two people acting on the same project at once: one wins, the other is told why.

Only PostgreSQL has the row locks this relies on; SQLite serialises whole writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from funding.models import Disbursement
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of, verify_chain
from workflows import demo
from workflows.actions import perform
from workflows.lifecycle import TransitionRefused

from .race_support import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks (set DATABASE_URL=postgres://…)",
    ),
]

ROOT = Path(__file__).resolve().parent.parent
FIRST = "Someone may have acted on it first."


def split(results, refusal):
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], refusal), lost[0]
    return won[0], lost[0]


def transition_events(project, name):
    return history_of(project).filter(kind=EventKind.PROJECT_TRANSITION, data__transition=name)


def test_two_staff_accepting_the_same_application_at_once(county, draft):
    project = demo.advance(county, draft, S.SUBMITTED)  # submitted and recommended
    staff = county.users["staff"]

    results = race(
        lambda: perform(project.pk, "accept_application", staff),
        lambda: perform(project.pk, "accept_application", staff),
    )

    winner, loser = split(results, TransitionRefused)
    assert winner.status == S.FORMAL_CHECK
    assert FIRST in str(loser) and "“Formal check”" in str(loser)
    assert transition_events(project, "accept_application").count() == 1
    assert verify_chain() == []


def test_two_disbursements_that_together_exceed_the_approved_amount(county, draft):
    project = demo.advance(county, draft, S.CONTRACTED)  # 600,000 approved
    staff = county.users["staff"]

    ahead = "按进度提前拨付"  # beyond the schedule with a reason: the approved amount binds
    results = race(
        lambda: perform(
            project.pk, "disburse", staff, amount=Decimal("400000"), tranche="甲", reason=ahead
        ),
        lambda: perform(
            project.pk, "disburse", staff, amount=Decimal("300000"), tranche="乙", reason=ahead
        ),
    )

    winner, loser = split(results, ValidationError)
    assert "of the approved amount remain to be disbursed" in loser.messages[0]
    paid = Disbursement.objects.get(project=project)
    project.refresh_from_db()
    assert project.disbursed_total == paid.amount == winner.disbursed_total
    assert project.disbursed_total <= project.approved_amount
    assert transition_events(project, "disburse").count() == 1
    assert verify_chain() == []


def test_two_refunds_that_together_exceed_what_is_outstanding(county, draft):
    """Issue 9: the recovery row is locked, so the second refund sees the first."""
    from django.utils import timezone

    from funding.models import Recovery, Refund
    from funding.recovery import record_refund

    project = demo.advance(county, draft, S.IN_PROGRESS)  # 360,000 disbursed, none spent
    staff = county.users["staff"]
    perform(project.pk, "terminate", staff, reason="终止并追回经费。")
    recovery = Recovery.objects.get(project=project)
    assert recovery.outstanding == Decimal("360000.00")
    today = timezone.localdate()

    results = race(
        lambda: record_refund(recovery.pk, staff, Decimal("200000"), today, "国库退款 甲"),
        lambda: record_refund(recovery.pk, staff, Decimal("200000"), today, "国库退款 乙"),
    )

    winner, loser = split(results, ValidationError)
    assert "Only 160000.00 yuan is outstanding" in loser.messages[0]
    recovery.refresh_from_db()
    assert recovery.refunded == winner.amount == Decimal("200000.00")
    assert Refund.objects.filter(recovery=recovery).count() == 1
    assert history_of(project).filter(kind=EventKind.REFUND_RECORDED).count() == 1
    assert verify_chain() == []


CHILD = """
import json, sys
import django
django.setup()
from django.utils import translation
from accounts.models import User
from workflows.actions import perform
from workflows.lifecycle import TransitionRefused

translation.activate("en")
project_id, username = int(sys.argv[1]), sys.argv[2]
user = User.objects.get(username=username)
print("ready", flush=True)
sys.stdin.readline()
try:
    status = perform(project_id, "accept_application", user).status
    print(json.dumps({"status": status}), flush=True)
except TransitionRefused as refused:
    print(json.dumps({"refused": str(refused)}), flush=True)
"""


def test_two_processes_accepting_the_same_application_at_once(county, draft, test_database_url):
    project = demo.advance(county, draft, S.SUBMITTED)  # submitted and recommended
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["DATABASE_URL"] = test_database_url
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(project.pk), "staff"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:  # both set up and connected …
            assert child.stdout.readline().strip() == "ready"
        for child in children:  # … then released together
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = [json.loads(child.communicate(timeout=120)[0]) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert [o.get("status") for o in outcomes].count(S.FORMAL_CHECK) == 1, outcomes
    refused = [o["refused"] for o in outcomes if "refused" in o]
    assert len(refused) == 1 and FIRST in refused[0]
    assert transition_events(project, "accept_application").count() == 1
    assert verify_chain() == []


def test_experts_reviewing_at_once_open_exactly_one_conclude_task(county):
    from viewflow.workflow.models import Task

    from workflows.actions import inbox, submit_expert_review
    from workflows.flows import ProjectFlow

    project = demo.draft_project(county, "applicant", "同时评审", "600000")
    project = demo.advance(county, project, S.EXPERT_REVIEW)
    experts = [county.users[f"expert{i}"] for i in (1, 2, 3)]

    results = race(
        *[
            (lambda e=e: submit_expert_review(project.pk, e, 80, "同意立项。", no_conflict=True))
            for e in experts
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    conclude = Task.objects.filter(
        process__projectprocess__project=project, flow_task=ProjectFlow.conclude_review
    )
    assert conclude.count() == 1
    assert [t.flow_task for t in inbox(county.users["staff"])] == [ProjectFlow.conclude_review]


def test_the_daily_job_and_a_save_enforcing_one_sanction_at_once_act_once():
    """Both see the sanction not yet enforced; the row lock lets exactly one record it."""
    import datetime

    from django.utils import timezone

    from integrity.models import Sanction
    from integrity.services import enforce_sanction, record_sanction

    town = demo.create_county()
    running = demo.advance(
        town, demo.draft_project(town, "applicant", "执行中", "300000"), S.IN_PROGRESS
    )
    today, applicant = timezone.localdate(), town.users["applicant"]
    ban = record_sanction(
        Sanction(
            subject_kind="person",
            subject_id=applicant.id_number,
            subject_name=applicant.real_name,
            severity="serious",
            measures=["ban"],
            gates=["apply"],
            decision_no="示科信〔2026〕88号",
            reason="伪造数据",
            starts_on=today + datetime.timedelta(days=1),  # not yet in force
            ends_on=today + datetime.timedelta(days=700),
        ),
        town.users["integrity"],
    )
    running.refresh_from_db()
    assert running.status == S.IN_PROGRESS
    Sanction.objects.filter(pk=ban.pk).update(starts_on=timezone.localdate())  # its day
    results = race(lambda: enforce_sanction(ban.pk), lambda: enforce_sanction(ban.pk))
    assert sorted(results) == [False, True], results
    running.refresh_from_db()
    assert running.status == S.SUSPENDED
    assert transition_events(running, "suspend").count() == 1
    assert history_of(ban).filter(kind=EventKind.SANCTION_ENFORCED).count() == 1
    assert verify_chain() == []


def test_two_decisions_racing_for_one_number_store_one():
    """Both pass the service's look-up at once; the unique constraint keeps one, and the
    other officer gets the same clear error on the number, with nothing stored."""
    from django.core.exceptions import ValidationError as Invalid

    from integrity.cases import take_step
    from integrity.models import CaseStatus, MisconductCase, Sanction

    from .cases_support import ban, heard, officer

    town = demo.create_county()
    first, second = heard(town), heard(town, reporter="李某")
    results = race(
        *(
            lambda case=case: take_step(
                case.pk, "decide", officer(town), **ban(decision_no="示科信〔2026〕9号")
            )
            for case in (first, second)
        )
    )
    won = [r for r in results if isinstance(r, MisconductCase)]
    lost = [r for r in results if isinstance(r, Invalid)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "decision_no" in lost[0].message_dict
    assert Sanction.objects.count() == 1
    loser = second if won[0].pk == first.pk else first
    loser.refresh_from_db()
    assert loser.status == CaseStatus.INVESTIGATING
    assert MisconductCase.objects.filter(status=CaseStatus.DECIDED).count() == 1


def test_two_closures_of_the_same_rectification_at_once_close_it_once(county, draft):
    """Issue 9: the finding row is locked, so the second closure sees the first."""
    import datetime

    from django.utils import timezone

    from oversight.findings import close_finding, raise_finding
    from oversight.models import SupervisionFinding
    from oversight.supervision_engagements import appoint_supervision

    project = demo.advance(county, draft, S.IN_PROGRESS)
    auditor = county.users["auditor"]
    appoint_supervision(project, county.orgs["firm"], auditor, [], county.users["staff"])
    deadline = timezone.localdate() + datetime.timedelta(days=30)
    finding = raise_finding(project, auditor, "major", "劳务费缺签收单。", deadline)

    results = race(
        lambda: close_finding(finding, auditor, "已核实。"),
        lambda: close_finding(finding, auditor, "已核实。"),
    )

    winner, loser = split(results, ValidationError)
    assert "already closed" in loser.messages[0]
    finding.refresh_from_db()
    assert finding.status == SupervisionFinding.Status.CLOSED == winner.status
    closed = history_of(project).filter(kind=EventKind.RECTIFICATION, data__step="closed")
    assert closed.count() == 1
    assert verify_chain() == []


# --- transitions of different projects do not queue behind each other (issue 10) ----------

LOCK_WAIT = "SET lock_timeout = '3s'"  # a wait on another transaction's lock fails, clearly


def two_drafts_of_one_call(county):
    """Two drafts of the same call, organisation and PI: every row they share is one
    that a lock wider than the project's own would make them queue on."""
    first = demo.draft_project(county, "applicant", "同一指南 甲", "300000")
    second = demo.draft_project(county, "applicant", "同一指南 乙", "300000")
    assert (first.call_id, first.applicant_org_id, first.pi_id) == (
        second.call_id,
        second.applicant_org_id,
        second.pi_id,
    )
    return first, second


def submit_with_lock_timeout(project, ready, done):
    """Submit `project` once the other thread holds what it holds; never wait long."""
    try:
        assert ready.wait(timeout=10), "the other thread never got its lock"
        with connection.cursor() as cursor:
            cursor.execute(LOCK_WAIT)  # this thread's own connection, closed after
        return perform(project.pk, "submit", project.pi, commitment=True)
    finally:
        done.set()


def test_submissions_of_two_projects_of_one_call_do_not_wait_for_each_other(county):
    """lock_project locks the project row only, not its call, organisation or PI."""
    import threading

    from django.db import transaction

    from workflows.lifecycle import lock_project

    first, second = two_drafts_of_one_call(county)
    ready, done = threading.Event(), threading.Event()

    def hold_the_first():
        with transaction.atomic():
            lock_project(first.pk)
            ready.set()
            assert done.wait(timeout=15), "the second submission never finished"
        return "held"

    held, submitted = race(hold_the_first, lambda: submit_with_lock_timeout(second, ready, done))

    assert held == "held"
    assert not isinstance(submitted, Exception), submitted  # no lock timeout
    assert submitted.status == S.UNIT_REVIEW
    assert verify_chain() == []


def test_a_transition_holds_the_trail_head_only_as_it_commits(county):
    """The trail event of a perform() is appended last: while one transition is past
    its change but not yet committed, another project's submission goes through."""
    import threading

    from django.db import transaction

    from trail.buffer import hold_events
    from workflows.lifecycle import fire_locked, lock_project

    first, second = two_drafts_of_one_call(county)
    ready, done = threading.Event(), threading.Event()

    def submit_the_first_slowly():
        with transaction.atomic(), hold_events():  # as perform() does
            project = lock_project(first.pk)
            fire_locked(project, "submit", project.pi, commitment=True)
            ready.set()  # changed and recorded, not committed: the bookkeeping's turn
            assert done.wait(timeout=15), "the second submission never finished"
        return project

    slow, fast = race(
        submit_the_first_slowly, lambda: submit_with_lock_timeout(second, ready, done)
    )

    assert not isinstance(fast, Exception), fast  # it did not wait for the chain head
    assert not isinstance(slow, Exception), slow
    assert fast.status == slow.status == S.UNIT_REVIEW
    # The first to commit is first in the chain, whichever transition began first.
    fast_event = transition_events(second, "submit").get()
    slow_event = transition_events(first, "submit").get()
    assert fast_event.seq < slow_event.seq
    assert verify_chain() == []
