"""What the expert-pool and review tests share: experts made to measure, a project drawn
for, the page's messages, and steps taken through the pages."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from funding.calls import save_call
from funding.expert_profiles import save_expert_profile
from funding.experts import ExpertProfile
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind
from integrity.services import record_sanction
from workflows import demo

TODAY = timezone.localdate()
CRITERIA = [
    {"name": "创新性", "weight": 30, "guidance": "研究内容的新颖程度。"},
    {"name": "可行性", "weight": 30, "guidance": "技术路线是否可行。"},
    {"name": "预期效益", "weight": 25, "guidance": "经济和社会效益。"},
    {"name": "团队能力", "weight": 15, "guidance": "团队的研究基础。"},
]


def make_expert(county, username: str, n: int, *, fields=("agriculture",), org=None, **extra):
    """A new expert account (ID number unless `id_number=""`) with a profile."""
    user = User.objects.create_user(
        username=username,
        password="x",
        real_name=extra.pop("real_name", f"专家{n}"),
        id_number=extra.pop("id_number", demo.person_id(n)),
        organisation=org,
    )
    user.groups.add(Group.objects.get(name=Role.EXPERT.value))
    profile = ExpertProfile(user=user, fields=list(fields), active=extra.pop("active", True))
    save_expert_profile(profile, extra.pop("relations", []), county.users["staff"])
    county.users[username] = user
    return user


def change_profile(county, username: str, relations=None, **changes) -> ExpertProfile:
    profile = ExpertProfile.objects.get(user=county.users[username])
    for name, value in changes.items():
        setattr(profile, name, value)
    kept = [
        {"kind": r.kind, "organisation": r.organisation, "id_number": r.id_number, "name": r.name}
        for r in profile.relations.all()
    ]
    return save_expert_profile(
        profile, kept if relations is None else relations, county.users["staff"]
    )


def sanction(county, user, gates=(Gate.REVIEW,)) -> Sanction:
    return record_sanction(
        Sanction(
            subject_kind=SubjectKind.PERSON,
            subject_id=user.id_number,
            subject_name=str(user),
            severity=Severity.SERIOUS,
            measures=["disqualify_expert"],
            gates=[g.value for g in gates],
            decision_no=f"示科信〔2026〕{Sanction.objects.count() + 90}号",
            reason="评审中收受申请人财物",
            starts_on=TODAY - datetime.timedelta(days=1),
            ends_on=TODAY + datetime.timedelta(days=700),
        ),
        county.users["integrity"],
    )


def with_criteria(county, criteria=CRITERIA):
    county.call.criteria = criteria
    return save_call(county.call, county.users["staff"])


def in_formal_check(county, title="水稻病虫害智能监测预警技术研究", applicant="applicant", **extra):
    project = demo.draft_project(county, applicant, title, "600000", **extra)
    return demo.advance(county, project, S.FORMAL_CHECK)


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def page(response) -> str:
    return response.content.decode()


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def draw_on_page(client, project, *, fields=("agriculture", "manufacturing"), size=3, seed="s"):
    data = {"draw-expert_fields": list(fields), "draw-size": str(size), "draw-seed": seed}
    return client.post(reverse("experts-draw", args=[project.pk]), data, follow=True)


def decline_on_page(client, project, reason="与申请人有合作关系。", conflict=True):
    data = {"decline-reason": reason, **({"decline-conflict": "on"} if conflict else {})}
    return client.post(reverse("review-decline", args=[project.pk]), data, follow=True)


def declare_on_page(client, project):
    return client.post(
        reverse("review-declare", args=[project.pk]), {"no_conflict": "on"}, follow=True
    )
