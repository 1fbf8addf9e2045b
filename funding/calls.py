"""Publishing and changing calls: a call's cap and tiers are rules, changed only here.

The admin (and any other path) saves through `save_call`, which checks the role,
validates the rule fields and journals their before and after (DESIGN §4, §5).
`call_problems` is shared with the admin form so a bad value is an error on the form.
"""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from accounts.text import text_problem
from documents.attachments import current_documents
from documents.kinds import KINDS, PROJECT, kind_named
from trail.kinds import EventKind
from trail.services import record

from .models import Call

# The fields whose change is a change of the call's rules (journaled with before/after).
RULE_FIELDS = (
    "title",
    "program",
    "opens_on",
    "closes_on",
    "funding_cap",
    "indirect_tiers",
    "criteria",
    "required_documents",
)
CAP_LIMIT = Decimal("100000000")  # 100 million yuan per project
MAX_TIERS = 10
MAX_CRITERIA = 10
CRITERION_NAME_MAX = 50
CRITERION_GUIDANCE_MAX = 500
CRITERION_KEYS = frozenset({"name", "weight", "guidance"})


def may_publish_calls(by) -> bool:
    if by is None:
        return True  # the system (the demo loader, a command)
    return bool(by.is_active and (by.is_superuser or has_role(by, Role.STAFF)))


def _is_number(value) -> bool:
    # JSON numbers only: no strings, no booleans (True is an int in Python), no NaN/Infinity.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float: no bound anyone means
        return False


def tier_problems(tiers) -> list[str]:
    """Indirect-cost tiers as funding.budget.indirect_cap reads them.

    A list of 1–10 pairs [upper bound of direct cost in yuan, percent]: bounds positive
    and strictly increasing, only the last may be null (no bound); percents 0–100.
    """
    shape = _(
        "Indirect cost tiers are a list of 1 to 10 pairs [upper bound in yuan, percent], "
        "e.g. [[5000000, 30], [10000000, 25], [null, 20]]."
    )
    if not isinstance(tiers, list) or not 1 <= len(tiers) <= MAX_TIERS:
        return [shape]
    if any(not isinstance(tier, list) or len(tier) != 2 for tier in tiers):
        return [shape]
    problems = []
    previous = None
    for index, (bound, percent) in enumerate(tiers, start=1):
        last = index == len(tiers)
        if bound is None:
            if not last:
                problems.append(
                    _("Tier %(n)s: only the last tier may have no upper bound.") % {"n": index}
                )
        elif not _is_number(bound) or bound <= 0:
            problems.append(
                _("Tier %(n)s: the upper bound must be a positive number of yuan.") % {"n": index}
            )
        else:
            if previous is not None and bound <= previous:
                problems.append(
                    _("Tier %(n)s: upper bounds must increase from tier to tier.") % {"n": index}
                )
            previous = bound
        if not _is_number(percent) or not 0 <= percent <= 100:
            problems.append(
                _("Tier %(n)s: the percentage must be a number from 0 to 100.") % {"n": index}
            )
    return problems


def required_documents_problems(slugs) -> list[str]:
    """A list of distinct document kinds a project takes (documents.kinds), or empty."""
    if slugs in (None, ""):
        return []
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        return [_('Give a list of document kinds, e.g. ["application_form", "commitment"].')]
    known = sorted(slug for slug, kind in KINDS.items() if PROJECT in kind.owners)
    unknown = [s for s in slugs if s not in known]
    if unknown:
        return [
            _("Unknown kind of project document: %(kinds)s. Known kinds: %(known)s.")
            % {"kinds": ", ".join(unknown), "known": ", ".join(known)}
        ]
    if len(set(slugs)) != len(slugs):
        return [_("Each document kind may be listed once.")]
    return []


def document_checklist(project) -> list[dict]:
    """The call's required documents for `project`: slug, label, and whether present."""
    required = project.call.required_documents or []
    present = set(current_documents(project).values_list("kind", flat=True))
    return [
        {
            "kind": slug,
            "label": kind.label if (kind := kind_named(slug)) else slug,
            "present": slug in present,
        }
        for slug in required
    ]


def missing_documents(project) -> list[str]:
    """The labels of the required documents `project` does not carry yet."""
    return [str(item["label"]) for item in document_checklist(project) if not item["present"]]


def criteria_problems(criteria) -> list[str]:
    """A call's scoring criteria as the review form and funding.reviews read them.

    Empty (a single overall score), or a list of 1–10 objects {"name", "weight",
    "guidance"}: names unique, one line, at most 50 characters; weights positive numbers
    adding up to 100; guidance optional text of at most 500 characters.
    """
    shape = _(
        "Scoring criteria are a list of 1 to 10 objects with a name, a weight and "
        'guidance, e.g. [{"name": "创新性", "weight": 30, "guidance": "..."}], or [] for '
        "a single overall score."
    )
    if criteria in (None, []):
        return []
    if not isinstance(criteria, list) or len(criteria) > MAX_CRITERIA:
        return [shape]
    if any(
        not isinstance(c, dict) or not {"name", "weight"} <= c.keys() <= CRITERION_KEYS
        for c in criteria
    ):
        return [shape]
    problems, names, total = [], set(), 0
    for index, criterion in enumerate(criteria, start=1):
        name, weight = criterion["name"], criterion["weight"]
        guidance = criterion.get("guidance", "")
        if not isinstance(name, str) or not name.strip():
            problems.append(_("Criterion %(n)s: give it a name.") % {"n": index})
        elif len(name.strip()) > CRITERION_NAME_MAX or text_problem(name, multiline=False):
            problems.append(
                _("Criterion %(n)s: the name is one line of at most %(max)s characters.")
                % {"n": index, "max": CRITERION_NAME_MAX}
            )
        elif name.strip().casefold() in names:
            problems.append(
                _("Criterion %(n)s: “%(name)s” is named twice.") % {"n": index, "name": name}
            )
        else:
            names.add(name.strip().casefold())
        if not _is_number(weight) or weight <= 0:
            problems.append(
                _("Criterion %(n)s: the weight must be a number above zero.") % {"n": index}
            )
        else:
            total += weight
        if not isinstance(guidance, str) or len(guidance) > CRITERION_GUIDANCE_MAX:
            problems.append(
                _("Criterion %(n)s: the guidance is text of at most %(max)s characters.")
                % {"n": index, "max": CRITERION_GUIDANCE_MAX}
            )
        elif text_problem(guidance, multiline=True):
            problems.append(
                _("Criterion %(n)s: the guidance has a control character.") % {"n": index}
            )
    if not problems and not math.isclose(total, 100, abs_tol=1e-6):
        problems.append(
            _("The weights of the criteria must add up to 100 (they add up to %(total)s).")
            % {"total": round(total, 4)}
        )
    return problems


def criteria_frozen(call: Call) -> bool:
    """Once a review of the call is scored, its criteria stay as they were scored."""
    from .models import ExpertAssignment

    if call.pk is None:
        return False
    stored = Call.objects.filter(pk=call.pk).values_list("criteria", flat=True).first()
    if stored == call.criteria:
        return False
    return ExpertAssignment.objects.filter(
        project__call_id=call.pk, submitted_at__isnull=False
    ).exists()


def cap_problems(cap) -> list[str]:
    if cap is None:
        return [_("Give the funding cap per project.")]
    if isinstance(cap, bool | float):  # floats carry binary fractions: not money
        return [_("The funding cap must be an amount in yuan.")]
    try:
        cap = cap if isinstance(cap, Decimal) else Decimal(str(cap))
    except InvalidOperation:
        return [_("The funding cap must be an amount in yuan.")]
    if not cap.is_finite():
        return [_("The funding cap must be an amount in yuan.")]
    problems = []
    if cap <= 0:
        problems.append(_("The funding cap must be more than zero."))
    if cap > CAP_LIMIT:
        problems.append(
            _("The funding cap cannot exceed %(limit)s yuan.") % {"limit": f"{CAP_LIMIT:,}"}
        )
    if cap.as_tuple().exponent < -2:
        problems.append(_("The funding cap has at most two decimal places."))
    return problems


def call_problems(call: Call) -> dict[str, list[str]]:
    """Everything wrong with a call's rule fields, by field (empty: it may be saved)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, messages: list[str]) -> None:
        if messages:
            errors.setdefault(field, []).extend(messages)

    for field in ("title", "program"):
        if not (getattr(call, field) or "").strip():
            add(field, [_("This field is required.")])
    add("funding_cap", cap_problems(call.funding_cap))
    add("indirect_tiers", tier_problems(call.indirect_tiers))
    add("criteria", criteria_problems(call.criteria))
    add("required_documents", required_documents_problems(call.required_documents))
    if "criteria" not in errors and criteria_frozen(call):
        add("criteria", [_("Reviews were scored against these criteria; they cannot change.")])
    opens, closes = call.opens_on, call.closes_on
    if not isinstance(opens, datetime.date):
        add("opens_on", [_("Give the date the call opens.")])
    if not isinstance(closes, datetime.date):
        add("closes_on", [_("Give the date the call closes.")])
    if isinstance(opens, datetime.date) and isinstance(closes, datetime.date) and closes < opens:
        add("closes_on", [_("A call cannot close before it opens.")])
    return errors


def _rules(call: Call | None) -> dict:
    return {} if call is None else model_to_dict(call, fields=list(RULE_FIELDS))


@transaction.atomic
def save_call(call: Call, by) -> Call:
    """Create or change a call: role, validation, save and the trail event together."""
    if not may_publish_calls(by):
        raise PermissionDenied(_("Only bureau staff publish and change calls."))
    problems = call_problems(call)
    if problems:
        raise ValidationError(problems)
    before = None if call.pk is None else Call.objects.select_for_update().get(pk=call.pk)
    call.full_clean()
    call.save()
    # As stored (the cap with its two places), so before and after compare like for like.
    before_rules, after_rules = _rules(before), _rules(Call.objects.get(pk=call.pk))
    if before is None or _jsonable(before_rules) != _jsonable(after_rules):
        record(
            EventKind.CALL_CHANGED,
            call,
            actor=by,
            before=before_rules,
            after=after_rules,
            data={"new": before is None},
        )
    return call


def _jsonable(rules: dict) -> str:
    return json.dumps(rules, default=str, sort_keys=True)
