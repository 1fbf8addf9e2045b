"""Auditors' annotations of the red flags on a fund trail, and the vouchers in Excel.

funding.flags computes the flags each time; an annotation is kept here by project, flag
code and voucher: explained (with a note), or a finding raised (the finding is made on the
running engagement at the same time). The export writes every voucher with its flags and
annotations into a workbook in write-only mode, spooled to disk past a few megabytes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.text import check_text
from funding.flags import Flag, fund_trail_flags
from funding.models import Expenditure, Project
from integrity.gates import keep_refusal
from integrity.policy import VetoRefused
from trail.kinds import EventKind
from trail.services import record

from . import findings
from .models import FlagNote, SupervisionFinding
from .supervision_engagements import acting_engagement

MAX_NOTE_CHARS = 2000
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass
class VoucherRow:
    voucher: Expenditure
    flags: list[Flag] = field(default_factory=list)
    notes: dict[str, FlagNote] = field(default_factory=dict)  # by flag code

    def items(self) -> list[tuple[Flag, FlagNote | None]]:
        return [(flag, self.notes.get(flag.kind)) for flag in self.flags]


def flagged_vouchers(project: Project, *, only_flagged: bool = True) -> list[VoucherRow]:
    """Every voucher (or only the flagged ones) with its flags and their annotations."""
    entries = list(project.expenditures.order_by("spent_on", "pk"))
    flags = fund_trail_flags(project, entries)
    by_voucher: dict[str, list[Flag]] = {}
    for flag in flags:
        for voucher_no in dict.fromkeys(flag.vouchers):
            by_voucher.setdefault(voucher_no, []).append(flag)
    notes: dict[tuple[str, str], FlagNote] = {
        (n.voucher_no, n.code): n for n in project.flag_notes.select_related("noted_by")
    }
    rows = []
    for entry in entries:
        on_it = by_voucher.get(entry.voucher_no, [])
        if only_flagged and not on_it:
            continue
        row = VoucherRow(entry, on_it)
        row.notes = {
            f.kind: notes[(entry.voucher_no, f.kind)]
            for f in on_it
            if (entry.voucher_no, f.kind) in notes
        }
        rows.append(row)
    return rows


def annotate_flag(
    project: Project,
    by,
    code: str,
    voucher_no: str,
    verdict: str,
    note: str,
    severity: str = "",
) -> FlagNote:
    """An auditor of the running engagement annotates one flag on one voucher (again:
    the annotation is replaced, the trail keeps the earlier one)."""
    try:
        with transaction.atomic():
            return _annotate(project, by, code, voucher_no, verdict, note, severity)
    except VetoRefused as refused:
        keep_refusal(refused, by)
        raise


def _annotate(project, by, code, voucher_no, verdict, note, severity) -> FlagNote:
    project = Project.objects.select_for_update().get(pk=project.pk)
    engagement = acting_engagement(by, project)
    if verdict not in FlagNote.Verdict.values:
        raise ValidationError(_("Choose: explained, or a finding raised."))
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Write a note on the flag."))
    check_text(note, label=_("Note"), max_length=MAX_NOTE_CHARS)
    flags = fund_trail_flags(project, list(project.expenditures.all()))
    flag = next((f for f in flags if f.kind == code and voucher_no in f.vouchers), None)
    if flag is None:
        raise ValidationError(_("That voucher carries no such flag (any more)."))
    existing = FlagNote.objects.filter(project=project, code=code, voucher_no=voucher_no).first()
    finding = existing.finding if existing is not None else None
    if verdict == FlagNote.Verdict.FINDING_RAISED and finding is None:
        if severity not in SupervisionFinding.Severity.values:
            raise ValidationError(_("Choose the severity of the finding."))
        text = f"{voucher_no}: {flag.message} {note}"
        finding = findings.create_finding(project, by, severity, text, None, None, engagement)
    before = {"verdict": existing.verdict, "note": existing.note} if existing else {}
    flag_note = existing or FlagNote(project=project, code=code, voucher_no=voucher_no)
    flag_note.verdict, flag_note.note, flag_note.noted_by = verdict, note, by
    flag_note.finding = finding
    flag_note.save()
    record(
        EventKind.FLAG_ANNOTATED,
        project,
        actor=by,
        before=before,
        after={"verdict": verdict, "note": note},
        data={
            "engagement": engagement.pk,
            "flag": code,
            "voucher": voucher_no,
            "finding": finding.pk if finding else None,
        },
    )
    return flag_note


HEADERS = (
    gettext_lazy("Voucher"),
    gettext_lazy("Date"),
    gettext_lazy("Category"),
    gettext_lazy("Payee"),
    gettext_lazy("Method"),
    gettext_lazy("Amount (yuan)"),
    gettext_lazy("Flags"),
    gettext_lazy("Annotations"),
)


def _text(sheet, value: str) -> WriteOnlyCell:
    """Text as text: never a formula (a payee "=HYPERLINK(…)"), no characters Excel refuses."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    cell.data_type = "s"
    return cell


def export_workbook(project: Project):
    """Every voucher with its flags and annotations, as an .xlsx file object (at 0)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Vouchers")[:31])
    sheet.append([_text(sheet, h) for h in HEADERS])
    for row in flagged_vouchers(project, only_flagged=False):
        v = row.voucher
        flags = "\n".join(f"[{f.kind}] {f.message}" for f in row.flags)
        notes = "\n".join(
            f"[{code}] {note.get_verdict_display()}: {note.note} ({note.noted_by})"
            for code, note in row.notes.items()
        )
        sheet.append(
            [
                _text(sheet, v.voucher_no),
                v.spent_on,
                _text(sheet, v.get_category_display()),
                _text(sheet, v.payee),
                _text(sheet, v.get_method_display()),
                v.amount,
                _text(sheet, flags),
                _text(sheet, notes),
            ]
        )
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(out)
    out.seek(0)
    return out
