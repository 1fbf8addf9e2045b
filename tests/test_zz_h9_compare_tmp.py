"""Temporary (helper h9): the SQL flags against the former Python ones on random ledgers."""

import datetime
import importlib.util
import random
from decimal import Decimal

import pytest

from funding.flags import Review, fund_trail_flags
from funding.models import Expenditure
from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db

spec = importlib.util.spec_from_file_location("funding._old_flags", "/tmp/h9/old_flags.py")
old = importlib.util.module_from_spec(spec)
import sys
sys.modules["funding._old_flags"] = old
spec.loader.exec_module(old)


def norm(flags):
    out = {}
    for f in flags:
        out.setdefault(f.kind, set()).add((f.message, tuple(f.vouchers)))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_same_as_before(county, seed, settings):
    rng = random.Random(seed)
    today = datetime.date.today()
    project = demo.draft_project(
        county, "applicant", f"比较{seed}", "600000",
        start_date=today - datetime.timedelta(days=200), end_date=today - datetime.timedelta(days=rng.choice([2, 100])),
    )
    project = demo.advance(county, project, S.IN_PROGRESS)
    settings.LARGE_VAGUE_PAYMENT = rng.choice(["50000", "1000"])
    payees = ["甲公司", "乙公司", "丙公司", "个人", " n/a ".strip(), "张", "黄助理", project.pi.real_name, "—"]
    entries = []
    n = rng.choice([5, 40, 200])
    for i in range(n):
        amount = rng.choice([Decimal(rng.randrange(100, 500000)) / 100, Decimal(rng.randrange(40000, 50000)), Decimal("6000.00"), Decimal("120000.00")])
        entries.append(Expenditure(
            project=project,
            voucher_no=f"V{rng.randrange(n):03d}",
            spent_on=project.start_date + datetime.timedelta(days=rng.randrange(-10, 215)),
            category=rng.choice(["equipment", "operations", "labour", "indirect", "equipment_other"]),
            payee=rng.choice(payees),
            method=rng.choice(["cash", "transfer", "card"]),
            amount=amount,
        ))
    Expenditure.objects.bulk_create(entries)
    everything = list(project.expenditures.all())
    before = norm(old.fund_trail_flags(project, everything))
    after = norm(fund_trail_flags(project))
    assert before == after
    # The page's marks: every row the old flags named, and no other.
    named = {v for f in old.fund_trail_flags(project, everything) for v in f.vouchers}
    for limit in (None, 3):
        review = Review(project, limit)
        assert review.flagged_among(everything) == named
        if limit:
            for f in review.flags:
                assert len(f.vouchers) <= limit


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("few", [1, 200])
def test_limited_is_a_prefix(county, seed, few, settings, monkeypatch):
    import funding.flags as F

    monkeypatch.setattr(F, "FEW", few)
    monkeypatch.setattr(F, "DUPLICATES_READ", few)
    rng = random.Random(seed)
    today = datetime.date.today()
    project = demo.draft_project(
        county, "applicant", f"比较{seed}", "600000",
        start_date=today - datetime.timedelta(days=200), end_date=today - datetime.timedelta(days=rng.choice([2, 100])),
    )
    project = demo.advance(county, project, S.IN_PROGRESS)
    settings.LARGE_VAGUE_PAYMENT = rng.choice(["50000", "1000"])
    payees = ["甲公司", "乙公司", "丙公司", "个人", "n/a", "张", "黄助理", project.pi.real_name, "—"]
    entries = []
    n = rng.choice([5, 40, 200])
    for i in range(n):
        amount = rng.choice([Decimal(rng.randrange(100, 500000)) / 100, Decimal(rng.randrange(40000, 50000)), Decimal("6000.00"), Decimal("120000.00")])
        entries.append(Expenditure(
            project=project,
            voucher_no=f"V{rng.randrange(n):03d}",
            spent_on=project.start_date + datetime.timedelta(days=rng.randrange(-10, 215)),
            category=rng.choice(["equipment", "operations", "labour", "indirect", "equipment_other"]),
            payee=rng.choice(payees),
            method=rng.choice(["cash", "transfer", "card"]),
            amount=amount,
        ))
    Expenditure.objects.bulk_create(entries)
    everything = list(project.expenditures.all())
    full = old.fund_trail_flags(project, everything)
    named = {v for f in full for v in f.vouchers}
    for limit in (2, 5):
        review = Review(project, limit)
        assert review.flagged_among(everything) == named
        by_kind = {}
        for f in full:
            by_kind.setdefault(f.kind, []).append(f)
        for kind, flags in by_kind.items():
            got = [f for f in review.flags if f.kind == kind]
            closing = [f for f in got if not f.vouchers]
            shown = [f for f in got if f.vouchers]
            assert (len(shown) <= limit or kind == "category_over_budget") and len(closing) <= 1
            assert len(shown) + sum(f.more for f in closing) == len(flags), kind
            full_by_msg = {}
            for f in flags:
                full_by_msg.setdefault(f.message, []).append(f.vouchers)
            for f in shown:
                assert len(f.vouchers) <= limit
                candidates = full_by_msg[f.message]
                assert any(sorted(f.vouchers) == sorted(c[: len(f.vouchers)]) and len(f.vouchers) + f.more == len(c) for c in candidates), (kind, f, candidates)
        assert {f.kind for f in review.flags} == set(by_kind)
