"""Benchmark the pages that list what grows with the projects, at 100,000 projects (issue 10).

    .venv/bin/python bench/bench_pages.py [--projects 100000] [--requests 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/...

A fresh throwaway database (as bench_lifecycle.py makes it: a temporary SQLite file, or a
PostgreSQL database named ``*_bench``), the demo county, then --projects projects written
with bulk_create (the setup, not measured), spread across the states as a county's
records after some ten years are: four in ten closed, one in eight rejected, a fifth in
progress, the rest in every other state. With them what the pages list: a viewflow
process per project past the draft and the open task of its state (staff, leadership,
the unit, the PI, the experts, the auditor; staff stand in for organisations without a
unit officer), a few finished tasks each, task contracts, disbursements (some first
tranches late), progress reports (some overdue), recoveries (some outstanding),
supervision engagements with rectifications (some overdue), vouchers (20 a project
past its contract), tech reports of accepted and closed projects, 60 inspection
draws whose pools hold every project in progress, and what the inbox's other sections
list: expert reviews (three a project past the expert review, some still owed and
late), objections to the public notices, budget adjustments, misconduct cases in every
state with their hearings and appeals, sanctions (some ordering a rectification still
to record) and veto overrides (some waiting for a leader), most of each long settled.

Then --requests GETs of each page through Django's test client as the role that sees
most of it (bureau staff for the inbox and the API, leadership for the overview,
nobody signed in for the public pages; the inbox also as a leader, the integrity
officer, a PI, a unit officer and an expert): median and p95 wall-clock time, the CPU time per
request (this process and its PostgreSQL backend: on a shared machine the wall clock
counts the others' work too), SQL statements per request (all of them, the session and
the user included) and the size of the HTML; with the machine's load average before and
after. The last line is ``RESULT {json}``.

--only inbox measures only the pages whose names start with one of the given
prefixes (``--only lists``: the pages on the list framework, issue 11); --keep leaves
the database behind and --reuse measures it again without building it (after migrating
it: a new index is measured on the same rows).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench_lifecycle import ThrowawayDatabase, _db_version, _read_dotenv
from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100  # issue 10: p95 at most 100 ms at 100,000 projects

# state, share in ten thousand
SPREAD = [
    ("draft", 300),
    ("unit_review", 100),
    ("submitted", 150),
    ("formal_check", 200),
    ("returned", 100),
    ("expert_review", 200),
    ("budget_review", 150),
    ("pending_approval", 100),
    ("public_notice", 100),
    ("approved", 100),
    ("contracted", 300),
    ("in_progress", 1800),
    ("acceptance_requested", 150),
    ("under_audit", 100),
    ("under_acceptance", 100),
    ("reconsideration", 50),
    ("accepted", 200),
    ("closed", 4100),
    ("rejected", 1200),
    ("vetoed", 50),
    ("withdrawn", 200),
    ("suspended", 50),
    ("terminated", 100),
    ("failed", 100),
]
# state -> (node of workflows.flows.ProjectFlow, who takes it)
OPEN_TASK = {
    "unit_review": ("unit_review", "unit"),
    "submitted": ("accept_application", "staff"),
    "formal_check": ("formal_check", "staff"),
    "returned": ("revise", "pi"),
    "expert_review": ("expert_review", "experts"),  # a third: conclude_review, for staff
    "budget_review": ("budget_review", "staff"),
    "pending_approval": ("approval", "leader"),
    "public_notice": ("public_notice", "staff"),
    "approved": ("sign_contract", "staff"),
    "contracted": ("first_disbursement", "staff"),
    "in_progress": ("request_acceptance", "pi"),
    "acceptance_requested": ("arrange_acceptance", "staff"),
    "under_audit": ("audit", "auditor"),
    "under_acceptance": ("acceptance_review", "staff"),
    "reconsideration": ("rectify", "pi"),
    "accepted": ("issue_certificate", "staff"),
    "suspended": ("decide_suspension", "staff"),
}
SIGNED = {
    "contracted",
    "in_progress",
    "acceptance_requested",
    "under_audit",
    "under_acceptance",
    "reconsideration",
    "accepted",
    "closed",
    "suspended",
    "terminated",
    "failed",
}
PAID = SIGNED - {"contracted"}
HISTORY_TASKS = 2  # finished tasks per project past the draft (the table's bulk)
VOUCHERS = 20  # per project past its first tranche
DRAWS = 60
# What tech reports are about: a search for one finds one report in twenty.
TOPICS = [
    "水稻", "茶叶", "柑橘", "生猪", "水产", "食用菌", "中药材", "农机", "数控机床", "模具",
    "新能源汽车", "锂电池", "光伏", "节能", "污水处理", "固废", "智慧医疗", "康养", "文旅",
    "物联网",
]  # fmt: skip


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100_000, help="projects in all")
    parser.add_argument("--requests", type=int, default=30, help="GETs measured per page")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database a --keep run left (migrated, not rebuilt)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated prefixes of the pages to measure (e.g. inbox)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # nothing is queued while building
    _read_dotenv()
    with KeptDatabase() if args.reuse else ThrowawayDatabase(keep=args.keep) as db:
        import django

        django.setup()
        return _run(args, db)


class KeptDatabase(ThrowawayDatabase):
    """The database a run with --keep left behind, used as it is and kept again."""

    def __init__(self):
        super().__init__(keep=True)

    def __enter__(self):
        url = self.original
        if url.startswith(("postgres://", "postgresql://", "pgsql://")):
            parts = urlsplit(url)
            name = parts.path.lstrip("/") or "kjjg"
            self.vendor, self.pg_name = "postgresql", name if "bench" in name else f"{name}_bench"
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + self.pg_name))
            return self
        raise SystemExit("bench_pages: --reuse needs the PostgreSQL database of a --keep run")


# --- the data -----------------------------------------------------------------------------


def _states(n: int, rng: random.Random) -> list[str]:
    """n states in the spread of SPREAD, shuffled (the same for the same n)."""
    states = []
    for state, share in SPREAD:
        states += [state] * round(n * share / 10_000)
    states = (states + ["closed"] * n)[:n]
    rng.shuffle(states)
    return states


def _people(county, rng):
    """200 more organisations (half of them with a unit officer) and 2,000 PIs."""
    from django.contrib.auth.models import Group

    from accounts.models import Organisation, User
    from accounts.roles import Role
    from workflows import demo

    kinds = [
        Organisation.Kind.INSTITUTE,
        Organisation.Kind.ENTERPRISE,
        Organisation.Kind.UNIVERSITY,
    ]
    orgs = Organisation.objects.bulk_create(
        Organisation(
            name=f"基准单位{i:03d}", credit_code=demo.credit_code(1000 + i), kind=kinds[i % 3]
        )
        for i in range(200)
    )
    orgs += [county.orgs["institute"], county.orgs["enterprise"]]
    users = [
        User(
            username=f"pi{i:04d}",
            real_name=f"负责人{i:04d}",
            id_number=demo.person_id(2000 + i, "19750101"),
            organisation=orgs[i % len(orgs)],
            password="!",
        )
        for i in range(2000)
    ]
    users += [
        User(
            username=f"unit{i:03d}",
            real_name=f"科研处{i:03d}",
            id_number=demo.person_id(5000 + i, "19700101"),
            organisation=orgs[i],
            password="!",
        )
        for i in range(0, 200, 2)
    ]
    users = User.objects.bulk_create(users)
    applicant, unit = (Group.objects.get(name=r.value) for r in (Role.APPLICANT, Role.UNIT))
    through = User.groups.through
    through.objects.bulk_create(
        through(user_id=u.pk, group_id=(unit if u.username.startswith("unit") else applicant).pk)
        for u in users
    )
    pis = [u for u in users if u.username.startswith("pi")]
    pis += [county.users["applicant"], county.users["applicant2"]]
    return pis


def _dates(state: str, rng: random.Random, today: datetime.date):
    """start, end, signed (None before the contract) of a project in `state`."""
    day = datetime.timedelta(days=1)
    if state not in SIGNED:
        start = today + rng.randrange(30, 120) * day
        return start, start + 730 * day, None
    if state == "contracted":
        ago = rng.randrange(0, 30) if rng.random() < 0.7 else rng.randrange(31, 200)
    elif state in ("in_progress", "suspended"):
        ago = rng.randrange(60, 1100)
    else:
        ago = rng.randrange(800, 3600)
    signed = today - ago * day
    return signed, signed + rng.randrange(730, 1096) * day, signed


def _projects(county, pis, n: int, rng: random.Random) -> list:
    from funding.models import Project

    today = datetime.date.today()
    rows, signed_on = [], {}
    for i, state in enumerate(_states(n, rng)):
        start, end, signed = _dates(state, rng, today)
        requested = Decimal(rng.randrange(50, 1000) * 1000)
        approved = requested if state in SIGNED or state in ("approved", "public_notice") else None
        pi = pis[i % len(pis)]
        project = Project(
            call=county.call if state not in SIGNED else county.closed_call,
            applicant_org_id=pi.organisation_id,
            pi=pi,
            title=f"基准项目{i:06d}：县域特色产业关键技术研究与示范",
            field="农业科技",
            summary="面向本县主导产业的关键技术攻关与示范推广。",
            requested_amount=requested,
            approved_amount=approved,
            disbursed_total=(approved * Decimal("0.5")) if state in PAID else Decimal("0.00"),
            start_date=start,
            end_date=end,
            status=state,
            signed_on=signed,  # as sign_contract keeps it
            notice_ends_on=(today + datetime.timedelta(days=rng.randrange(-5, 6)))
            if state == "public_notice"
            else None,
        )
        rows.append(project)
    created = Project.objects.bulk_create(rows, batch_size=5000)
    for project in created:
        if project.status in SIGNED:
            signed_on[project.pk] = project.start_date
    return created, signed_on


def _processes(county, projects, rng: random.Random) -> int:
    """A process per project past the draft, its open task, HISTORY_TASKS finished ones."""
    from django.db import connection
    from django.utils import timezone
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import PROCESS, STATUS

    from workflows.flows import LEADER_TASK, STAFF_TASK, ProjectFlow
    from workflows.models import ProjectProcess
    from workflows.unit_review import UNIT_TASK

    moving = [p for p in projects if p.status != "draft"]
    now = timezone.now()
    processes = Process.objects.bulk_create(
        (
            Process(
                flow_class=ProjectFlow,
                status=PROCESS.NEW if p.status in OPEN_TASK else PROCESS.DONE,
                created=now - datetime.timedelta(days=rng.randrange(1, 3000)),
            )
            for p in moving
        ),
        batch_size=5000,
    )
    table = ProjectProcess._meta.db_table
    ptr = ProjectProcess._meta.pk.column
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({ptr}, project_id) VALUES (%s, %s)",
            [(proc.pk, p.pk) for proc, p in zip(processes, moving, strict=True)],
        )
    experts = [county.users[f"expert{k}"] for k in range(1, 6)]
    permission = {"staff": STAFF_TASK, "leader": LEADER_TASK, "unit": UNIT_TASK}
    tasks = []
    for proc, p in zip(processes, moving, strict=True):
        created = now - datetime.timedelta(minutes=rng.randrange(1, 60 * 24 * 400))
        for k in range(HISTORY_TASKS):
            tasks.append(
                Task(
                    process=proc,
                    flow_task=ProjectFlow.formal_check,
                    flow_task_type="HUMAN",
                    status=STATUS.DONE,
                    owner=county.users["staff"],
                    owner_permission=STAFF_TASK,
                    created=created - datetime.timedelta(days=30 * (k + 1)),
                    finished=created - datetime.timedelta(days=30 * k + 1),
                )
            )
        if p.status not in OPEN_TASK:
            continue
        node, who = OPEN_TASK[p.status]
        if who == "experts" and rng.random() < 1 / 3:
            node, who = "conclude_review", "staff"
        task = {"process": proc, "flow_task_type": "HUMAN", "created": created}
        if who in permission:
            owned = [{"owner_permission": permission[who], "status": STATUS.NEW}]
        elif who == "experts":
            owned = [
                {"owner": e, "status": STATUS.ASSIGNED, "data": {"expert": e.pk}}
                for e in rng.sample(experts, 3)
            ]
        else:
            owner = county.users["auditor"] if who == "auditor" else p.pi
            owned = [{"owner": owner, "status": STATUS.ASSIGNED}]
        tasks += [Task(flow_task=getattr(ProjectFlow, node), **task, **o) for o in owned]
    Task.objects.bulk_create(tasks, batch_size=5000)
    return len(tasks)


def _money_and_oversight(county, projects, signed_on, rng: random.Random) -> None:
    """Contracts, tranches, reports, recoveries, supervision and vouchers."""
    from django.db import connection
    from django.utils import timezone

    from funding.models import Disbursement, Project, ProjectContract
    from funding.recovery import Recovery
    from oversight.models import AuditEngagement, ProgressReport, SupervisionFinding, TechReport

    today = datetime.date.today()
    day = datetime.timedelta(days=1)
    staff, auditor = county.users["staff"], county.users["auditor"]
    tz = timezone.get_current_timezone()

    def at(date):
        return datetime.datetime.combine(date, datetime.time(10), tzinfo=tz)

    contracts, tranches, reports, recoveries, tech, paid = [], [], [], [], [], []
    for p in projects:
        if p.pk not in signed_on:
            continue
        signed = signed_on[p.pk]
        contracts.append(ProjectContract(project=p, frozen_at=at(signed), frozen_by=staff))
        if p.status in PAID:
            late = rng.random() < 0.05
            first = signed + (rng.randrange(31, 120) if late else rng.randrange(0, 26)) * day
            first = min(first, today)
            p.first_disbursed_on = first  # as the first tranche keeps it
            paid.append(p)
            tranches.append(
                Disbursement(
                    project=p,
                    tranche="签订后",
                    amount=p.disbursed_total * Decimal("0.6"),
                    paid_on=first,
                    recorded_by=staff,
                )
            )
            if first + 365 * day <= today:
                tranches.append(
                    Disbursement(
                        project=p,
                        tranche="中期检查后",
                        amount=p.disbursed_total * Decimal("0.4"),
                        paid_on=first + 365 * day,
                        recorded_by=staff,
                    )
                )
        if p.status == "in_progress":
            open_ = rng.random() < 0.12
            reports.append(
                ProgressReport(
                    project=p,
                    kind="annual",
                    due_on=today + rng.randrange(-200, 61) * day if open_ else signed + 365 * day,
                    summary="" if open_ else "按计划推进。",
                    submitted_at=None if open_ else at(signed + 360 * day),
                )
            )
        if p.status in ("accepted", "closed"):
            reports.append(
                ProgressReport(
                    project=p,
                    kind="annual",
                    due_on=signed + 365 * day,
                    summary="按计划推进。",
                    submitted_at=at(signed + 360 * day),
                )
            )
            embargoed = rng.random() < 0.1
            topic = TOPICS[p.pk % len(TOPICS)]
            tech.append(
                TechReport(
                    project=p,
                    title=f"{topic}{p.title}科技报告",
                    abstract="本报告总结项目的研究内容、技术路线、主要成果与推广应用情况。" * 3,
                    keywords=f"{topic} 推广",
                    access="embargoed" if embargoed else "open",
                    embargo_until=today + rng.randrange(-700, 700) * day if embargoed else None,
                )
            )
        if p.status in ("terminated", "failed"):
            amount = p.disbursed_total * Decimal("0.5")
            recoveries.append(
                Recovery(
                    project=p,
                    reason=p.status,
                    disbursed=p.disbursed_total,
                    spent=p.disbursed_total - amount,
                    eligible=p.disbursed_total - amount,
                    computed=amount,
                    amount=amount,
                    refunded=amount if rng.random() < 0.5 else Decimal("0.00"),
                    assessed_by=staff,
                )
            )
    ProjectContract.objects.bulk_create(contracts, batch_size=5000)
    Disbursement.objects.bulk_create(tranches, batch_size=5000)
    Project.objects.bulk_update(paid, ["first_disbursed_on"], batch_size=5000)
    ProgressReport.objects.bulk_create(reports, batch_size=5000)
    Recovery.objects.bulk_create(recoveries, batch_size=5000)
    TechReport.objects.bulk_create(tech, batch_size=5000)

    supervised = [p for p in projects if p.status in ("in_progress", "under_audit")]
    supervised = [p for p in supervised if p.status == "under_audit" or rng.random() < 0.1]
    engagements = AuditEngagement.objects.bulk_create(
        AuditEngagement(
            project=p,
            firm=county.orgs["firm"],
            lead_auditor=auditor,
            appointed_by=staff,
            whole_course=True,
        )
        for p in supervised
    )
    SupervisionFinding.objects.bulk_create(
        SupervisionFinding(
            engagement=e,
            severity="minor",
            text="部分凭证缺少审批签字。",
            rectify_by=today + rng.randrange(-120, 40) * day,
            raised_by=auditor,
        )
        for e in engagements
        if rng.random() < 0.3
    )
    # The vouchers, in the database: VOUCHERS a project past its first tranche.
    states = ", ".join(f"'{s}'" for s in sorted(PAID))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO funding_expenditure "
            "(project_id, voucher_no, spent_on, category, payee, method, amount, import_key) "
            f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {VOUCHERS}) "
            "SELECT p.id, 'V' || p.id || '-' || k.i, p.start_date, "
            "CASE k.i % 3 WHEN 0 THEN 'equipment' WHEN 1 THEN 'operations' ELSE 'labour' END, "
            "'供应商有限公司', 'transfer', (p.id + k.i) % 9000 + 100, '' "
            f"FROM funding_project p CROSS JOIN k WHERE p.status IN ({states})"
        )
        # An acceptance certificate for every closed project (issued, the PDF unread by
        # the lists, so none is stored), one in fifty of them revoked.
        cursor.execute(
            "INSERT INTO oversight_certificate "
            "(project_id, serial, status, sha256, issued_by_id, issued_at, revoked_reason) "
            "SELECT p.id, 'KJJG-BENCH-' || p.id, "
            "CASE WHEN p.id %% 50 = 0 THEN 'revoked' ELSE 'issued' END, "
            "'', %s, %s, '' FROM funding_project p WHERE p.status = 'closed'",
            [staff.pk, timezone.now()],
        )
        if connection.vendor == "postgresql":  # filed over the years, not all at once
            cursor.execute(
                "UPDATE oversight_techreport "
                "SET filed_at = filed_at - (id % 3650) * interval '1 day'"
            )
            cursor.execute(
                "UPDATE oversight_certificate "
                "SET issued_at = issued_at - (id % 3650) * interval '1 day'"
            )


def _draws(county, rng: random.Random) -> None:
    """Three draws through the service, then copies of them up to DRAWS."""
    from oversight.inspections import draw_inspections
    from oversight.models import InspectionDraw

    staff = county.users["staff"]
    made = [draw_inspections(staff, 10, 2, seed=f"基准{k}") for k in range(3)]
    drawn, inspecting = InspectionDraw.projects.through, InspectionDraw.inspectors.through
    for k in range(DRAWS - len(made)):
        model = made[k % len(made)]
        copy = InspectionDraw.objects.create(
            seed=f"{model.seed}-{k}",
            population=model.population,
            pool_size=model.pool_size,
            inspector_pool=model.inspector_pool,
            drawn_by=staff,
        )
        drawn.objects.bulk_create(
            drawn(inspectiondraw_id=copy.pk, project_id=pk)
            for pk in model.projects.values_list("pk", flat=True)
        )
        inspecting.objects.bulk_create(
            inspecting(inspectiondraw_id=copy.pk, user_id=pk)
            for pk in model.inspectors.values_list("pk", flat=True)
        )


# Misconduct cases, in ten thousand: most long settled, some waiting for the officer.
CASE_SPREAD = [
    ("dismissed", 2000),
    ("refused", 500),
    ("cleared", 1000),
    ("decided", 3500),
    ("upheld", 1000),
    ("appeal_answered", 500),
    ("revoked", 200),
    ("proposed", 200),
    ("reported", 400),
    ("investigating", 500),
    ("appealed", 100),
    ("under_review", 100),
]
HEARD = {"investigating", "cleared", "decided", "upheld", "appeal_answered", "revoked"}
HEARD |= {"appealed", "under_review"}
DECIDED = {"decided", "upheld", "appeal_answered", "revoked", "appealed", "under_review"}
# Projects past the expert review, whose three reviews are long in.
REVIEWED = SIGNED | {"budget_review", "pending_approval", "public_notice", "approved"}


def _reviews(county, projects, rng: random.Random) -> None:
    """Three expert reviews a project: owed (a quarter of them late) under the expert
    review, submitted for every project past it."""
    from django.utils import timezone

    from funding.models import ExpertAssignment

    today, now = datetime.date.today(), timezone.now()
    day = datetime.timedelta(days=1)
    experts = [county.users[f"expert{k}"] for k in range(1, 6)]
    rows = []
    for p in projects:
        if p.status == "expert_review":
            owed = True
        elif p.status in REVIEWED:
            owed = False
        else:
            continue
        for expert in rng.sample(experts, 3):
            due = today + rng.randrange(-10, 30) * day if owed else p.start_date - 60 * day
            rows.append(
                ExpertAssignment(
                    project=p,
                    expert=expert,
                    no_conflict_declared=True,
                    due_on=due,
                    score=None if owed else rng.randrange(60, 95),
                    opinion="" if owed else "同意立项。",
                    submitted_at=None if owed else now - rng.randrange(60, 3600) * day,
                )
            )
    ExpertAssignment.objects.bulk_create(rows, batch_size=5000)


def _decisions(county, projects, rng: random.Random) -> None:
    """Objections to the public notices (one notice in five objected to, the objections
    of earlier notices decided) and budget adjustments (one running project in five,
    one in twenty of them pending)."""
    from funding.models import BudgetAdjustment, Objection

    staff = county.users["staff"]
    objections, adjustments = [], []
    for p in projects:
        if p.status in ("public_notice", "approved", *SIGNED) and rng.random() < 0.2:
            open_ = p.status == "public_notice"
            objections += [
                Objection(
                    project=p,
                    name=f"异议人{p.pk}-{k}",
                    contact="13800000000",
                    text="对公示的项目负责人资格有异议。",
                    status="open" if open_ else rng.choice(["upheld", "dismissed"]),
                    finding="" if open_ else "经核查，异议不成立。",
                    decided_by=None if open_ else staff,
                )
                for k in range(rng.randrange(1, 3))
            ]
        if p.status in ("in_progress", "under_audit") and rng.random() < 0.2:
            pending = rng.random() < 0.05
            adjustments.append(
                BudgetAdjustment(
                    project=p,
                    from_category="equipment",
                    to_category="operations",
                    amount=Decimal(rng.randrange(1, 50) * 1000),
                    reason="设备采购价格下降，结余用于测试化验。",
                    status="pending" if pending else rng.choice(["applied", "rejected"]),
                    requested_by=p.pi,
                    decided_by=None if pending else staff,
                )
            )
    Objection.objects.bulk_create(objections, batch_size=5000)
    BudgetAdjustment.objects.bulk_create(adjustments, batch_size=5000)


def _integrity(county, projects, pis, n: int, rng: random.Random) -> None:
    """n/50 misconduct cases in the spread of CASE_SPREAD (a few of them against the
    demo applicant), their hearings and appeals; a sanction for each decided case, one
    in five ordering a rectification (one in ten of those still to record); n/200 veto
    overrides, one in ten waiting for a leader."""
    from integrity.models import (
        Appeal,
        MisconductCase,
        RespondentHearing,
        Sanction,
        VetoOverride,
    )

    today = datetime.date.today()
    day = datetime.timedelta(days=1)
    officer, staff, leader = (county.users[u] for u in ("integrity", "staff", "leader"))
    spread = []
    for status, share in CASE_SPREAD:
        spread += [status] * max(round(n / 50 * share / 10_000), 1)
    rng.shuffle(spread)
    applicant = county.users["applicant"]
    people = [applicant] * 3 + pis
    cases = []
    for i, status in enumerate(spread):
        who = people[i % len(people)]
        cases.append(
            MisconductCase(
                status=status,
                reporter="匿名举报",
                respondent_kind="person",
                respondent_id=who.id_number,
                respondent_name=who.real_name,
                misconduct=rng.choice(["plagiarism", "fabrication", "misuse", "false_application"]),
                allegation="举报项目申请材料存在虚假内容。",
                decision_no=f"基准诚信〔{i:05d}〕号" if status in DECIDED else "",
                decided_on=today - rng.randrange(30, 3000) * day if status in DECIDED else None,
                opened_by=officer,
            )
        )
    cases = MisconductCase.objects.bulk_create(cases, batch_size=5000)
    hearings, appeals, sanctions = [], [], []
    for case in cases:
        if case.status in HEARD:
            notified = today - rng.randrange(1, 3000) * day
            reply_by = notified + 10 * day
            answered = case.status != "investigating" or rng.random() < 0.3
            hearings.append(
                RespondentHearing(
                    case=case,
                    notified_on=notified,
                    reply_by=reply_by,
                    statement="本人对举报内容作出说明。" if answered else "",
                    received_on=reply_by - day if answered else None,
                    notified_by=officer,
                )
            )
        if case.status in ("appealed", "under_review", "appeal_answered", "upheld", "revoked"):
            answered = case.status not in ("appealed", "under_review")
            appeals.append(
                Appeal(
                    case=case,
                    kind="review" if case.status == "under_review" else "appeal",
                    filed_on=case.decided_on + 10 * day,
                    grounds="认定事实不清。",
                    authority="县科技局",
                    outcome=("revoked" if case.status == "revoked" else "upheld")
                    if answered
                    else "",
                    answered_on=case.decided_on + 40 * day if answered else None,
                    recorded_by=officer,
                )
            )
        if case.status in DECIDED:
            rectify = rng.random() < 0.2
            sanctions.append(
                Sanction(
                    subject_kind="person",
                    subject_id=case.respondent_id,
                    subject_name=case.respondent_name,
                    severity="minor" if rectify else "serious",
                    gates=[] if rectify else ["apply"],
                    measures=["suspend_rectify"] if rectify else ["criticism", "ban"],
                    decision_no=case.decision_no,
                    reason="经调查，认定存在科研失信行为。",
                    starts_on=case.decided_on,
                    ends_on=case.decided_on + 730 * day,
                    status="revoked" if case.status == "revoked" else "effective",
                    rectify_by=case.decided_on + 90 * day if rectify else None,
                    rectified_on=case.decided_on + 80 * day
                    if rectify and rng.random() < 0.9
                    else None,
                    recorded_by=officer,
                )
            )
    RespondentHearing.objects.bulk_create(hearings, batch_size=5000)
    Appeal.objects.bulk_create(appeals, batch_size=5000)
    sanctions = Sanction.objects.bulk_create(sanctions, batch_size=5000)
    asked = rng.sample(projects, max(n // 200, 1))
    VetoOverride.objects.bulk_create(
        (
            VetoOverride(
                gate="apply",
                object_type="funding.project",
                object_id=str(p.pk),
                sanction=sanctions[k % len(sanctions)] if sanctions else None,
                reason="经集体研究，项目负责人已完成整改，同意例外办理。",
                status="pending" if pending else "used",
                requested_by=staff,
                approved_by=None if pending else leader,
            )
            for k, p in enumerate(asked)
            for pending in [rng.random() < 0.1]
        ),
        batch_size=5000,
    )


def _spread_over_the_years() -> None:
    """bulk_create stamps every row with the time it ran: spread the times of what the
    inbox sorts by over the years, as they would be (PostgreSQL only; SQLite keeps the
    one time, which changes no plan)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table, column in [
            ("funding_objection", "lodged_at"),
            ("funding_budgetadjustment", "requested_at"),
            ("integrity_misconductcase", "opened_at"),
            ("integrity_sanction", "recorded_at"),
            ("integrity_vetooverride", "requested_at"),
            ("oversight_supervisionfinding", "raised_at"),
        ]:
            cursor.execute(
                f"UPDATE {table} SET {column} = {column} - (id % 3000) * interval '1 day'"
            )


# --- measuring ----------------------------------------------------------------------------


def _backend_cpu_seconds(connection) -> float | None:
    """CPU time of this connection's PostgreSQL backend so far, when the server runs on
    this machine (/proc); None otherwise. Parallel workers are not counted."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _time(client, url: str, n: int, before=None) -> dict:
    """Wall-clock time of `n` GETs (median, p95), SQL statements, the page's size, and the
    CPU time they used (this process and the database backend, per request): on a shared
    machine the wall clock counts the others' work too, the CPU time only ours.
    `before` runs ahead of each request, outside the time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates compiled, translations loaded
    seconds, queries, size, cpu = [], [], 0, 0.0
    backend_before = _backend_cpu_seconds(connection)
    for _ in range(n):
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            body = response.content
            seconds.append(time.perf_counter() - started)
            cpu += time.process_time() - cpu_started
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(captured.captured_queries))
        size = len(body)
    backend_after = _backend_cpu_seconds(connection)
    if backend_before is not None and backend_after is not None:
        cpu += backend_after - backend_before  # in ticks of 10 ms: a mean over n requests
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
        "cpu_ms": round(cpu * 1000 / n, 1),
        "queries": max(queries),
        "queries_min": min(queries),
        "kib": round(size / 1024, 1),
    }


def _pages(county, projects: int, staff_tasks: int) -> list[tuple[str, str | None, str]]:
    """(name, who, address): who signs in (None: nobody) to see the most of the page; for
    the lists in pages, the first page and one in the middle."""
    from django.urls import reverse

    from workflows.views.dashboard import SECTIONS

    inbox, api = reverse("inbox"), reverse("api-project-list")
    middle_tasks, middle_projects = max(staff_tasks // 50, 1), max(projects // 100, 1)
    pages = [
        ("inbox", "staff", inbox),
        (f"inbox_page_{middle_tasks}", "staff", f"{inbox}?page={middle_tasks}"),
        ("inbox_leader", "leader", inbox),
        ("inbox_integrity", "integrity", inbox),
        ("inbox_pi", "applicant", inbox),
        ("inbox_unit", "unit1", inbox),
        ("inbox_expert", "expert1", inbox),
        ("api_projects", "staff", api),
        (f"api_projects_page_{middle_projects}", "staff", f"{api}?page={middle_projects}"),
        ("overview", "leader", reverse("dashboard")),
    ]
    pages += [
        (f"overview_{slug}", "leader", reverse("dashboard-section", args=[slug]))
        for slug in SECTIONS
    ]
    pages += [
        ("notices", None, reverse("notices")),
        ("inspections", "staff", reverse("inspections")),
        ("reports", None, reverse("reports")),
        ("reports_search", None, f"{reverse('reports')}?q={TOPICS[0]}"),
    ]
    return pages + _list_pages(projects)


def _list_pages(projects: int) -> list[tuple[str, str | None, str]]:
    """The lists on the list framework (issue 11), as the role that sees most of each:
    the default view and a typical filtered or sorted one (--only lists; the /inspections/
    and /reports/ above belong to the group too)."""
    from django.urls import reverse

    year = datetime.date.today().year
    middle = max(projects // 2 // 25, 1)  # the middle page of every project shown
    pages = [  # (name, the list's URL name, who, query)
        ("lists_projects", "projects", "staff", ""),
        ("lists_projects_running_by_amount", "projects", "staff",
         "?status=in_progress&sort=-requested_amount"),
        ("lists_projects_search", "projects", "staff", f"?q={TOPICS[0]}"),
        ("lists_projects_middle", "projects", "staff", f"?page={middle}"),
        ("lists_calls", "calls", "staff", ""),
        ("lists_calls_closed_latest", "calls", "staff", "?state=closed&sort=-closes_on"),
        ("lists_vouchers", "vouchers", "staff", ""),
        ("lists_vouchers_by_amount", "vouchers", "staff", "?sort=-amount"),
        ("lists_vouchers_equipment", "vouchers", "staff", "?category=equipment"),
        ("lists_adjustments", "adjustments", "staff", ""),
        ("lists_adjustments_pending", "adjustments", "staff", "?status=pending"),
        ("lists_certificates", "certificates", "staff", ""),
        ("lists_certificates_valid_year", "certificates", "staff",
         f"?state=valid&year={year - 3}"),
        ("lists_register", "register", "integrity", ""),
        ("lists_register_in_force", "register", "integrity",
         "?status=effective&sort=-period"),
        ("lists_cases", "cases", "integrity", ""),
        ("lists_cases_investigating", "cases", "integrity",
         "?status=investigating&sort=reply_by"),
        ("lists_inspections_open", "inspections", "staff", "?state=open"),
        ("lists_reports_by_title", "reports", None, "?sort=title"),
    ]  # fmt: skip
    return [(name, who, reverse(url) + query) for name, url, who, query in pages]


# --only: a group's name stands for the prefixes of its pages.
GROUPS = {"lists": ("lists_", "inspections", "reports")}


def _build(args):
    """The county, its projects and everything the pages list (not measured)."""
    from workflows import demo

    rng = random.Random(10)
    county = demo.create_county()
    pis = _people(county, rng)
    projects, signed_on = _projects(county, pis, args.projects, rng)
    _processes(county, projects, rng)
    _money_and_oversight(county, projects, signed_on, rng)
    _draws(county, rng)
    _reviews(county, projects, rng)
    _decisions(county, projects, rng)
    _integrity(county, projects, pis, args.projects, rng)
    _spread_over_the_years()
    return county


def _county_kept():
    """The demo county's people, as a --keep run left them (--reuse)."""
    from accounts.models import User
    from workflows import demo

    county = demo.County()
    names = [username for username, *_ in demo.USERS]
    county.users = {u.username: u for u in User.objects.filter(username__in=names)}
    return county


def _run(args, db) -> int:
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from viewflow.workflow.models import Task

    from funding.models import Expenditure, ExpertAssignment, Objection, Project
    from integrity.models import MisconductCase, Sanction, VetoOverride
    from oversight.models import Certificate
    from workflows.actions import inbox

    setup_test_environment()  # the test client's host
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    county = _county_kept() if args.reuse else _build(args)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the visibility map too, for index-only scans
    setup_s = time.perf_counter() - t0
    sizes = {
        "projects": Project.objects.count(),
        "tasks": Task.objects.count(),
        "open_tasks": Task.objects.filter(status__in=["NEW", "ASSIGNED"]).count(),
        "vouchers": Expenditure.objects.count(),
        "certificates": Certificate.objects.count(),
        "open_objections": Objection.objects.filter(status="open").count(),
        "cases": MisconductCase.objects.count(),
        "overrides_pending": VetoOverride.objects.filter(status="pending").count(),
        "sanctions": Sanction.objects.count(),
        "expert_reviews": ExpertAssignment.objects.count(),
    }
    print(
        f"bench_pages: {db.vendor} {_db_version(connection)}, {sizes}, setup {setup_s:.1f}s",
        flush=True,
    )

    clients: dict[str | None, Client] = {None: Client()}

    def client_of(who: str | None) -> Client:
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(county.users[who])
        return clients[who]

    results = {}
    # As the production server's workers do once loaded (config/gunicorn.conf.py): what
    # is loaded, and here the rows built, leave the collector's sight; else a full
    # collection every ten requests or so adds ~100 ms to one of them (the p95 of 20).
    gc.collect()
    gc.freeze()
    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    staff_tasks = inbox(county.users["staff"]).count()
    only = tuple(
        prefix for asked in args.only.split(",") if asked for prefix in GROUPS.get(asked, (asked,))
    )
    for name, who, url in _pages(county, sizes["projects"], staff_tasks):
        if only and not name.startswith(only):
            continue
        row = _time(client_of(who), url, args.requests)
        results[name] = {"as": who or "public", **row}
        flag = "" if row["p95_ms"] <= TARGET_MS else "  (over the target)"
        print(
            f"{name:<40} {who or 'public':<9} median {row['median_ms']:>6} ms, "
            f"p95 {row['p95_ms']:>6} ms, CPU {row['cpu_ms']:>6} ms, "
            f"{row['queries']:>3} statements, {row['kib']} KiB{flag}",
            flush=True,
        )
    # The overview's totals come from the cache until the next change: the same page with
    # them summed again each time, as after every change of a state or of money.
    if not only or "overview_totals_summed".startswith(only):
        row = _time(client_of("leader"), reverse("dashboard"), args.requests, before=cache.clear)
        results["overview_totals_summed"] = {"as": "leader", **row}
        print(
            f"{'overview_totals_summed':<40} {'leader':<9} median {row['median_ms']:>6} ms, "
            f"p95 {row['p95_ms']:>6} ms, CPU {row['cpu_ms']:>6} ms, "
            f"{row['queries']:>3} statements, {row['kib']} KiB",
            flush=True,
        )
    result = {
        "bench": "pages",
        "cpu": cpu_model(),
        "database": db.vendor,
        "requests": args.requests,
        "target_p95_ms": TARGET_MS,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        **sizes,
        "pages": results,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
