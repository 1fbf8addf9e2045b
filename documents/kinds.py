"""The kinds of uploaded document (issue 8): what each is, what it may be attached to, and
which file types it takes.

A kind is a short slug stored on each attachment. Its owners are model labels
("funding.project"), written as text so this lowest part imports no higher one; the
service refuses a kind on any other owner. A higher part may add a kind with
`register_kind` from its AppConfig.ready().
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .formats import FileType

# Signed papers and scans: one PDF, or a photo of a single page.
SCANS = (FileType.PDF, FileType.PNG, FileType.JPEG)
OFFICE = (
    FileType.DOCX,
    FileType.XLSX,
    FileType.PPTX,
    FileType.ODT,
    FileType.ODS,
    FileType.ODP,
)

PROJECT = "funding.project"


@dataclass(frozen=True)
class DocumentKind:
    slug: str
    label: str | Promise
    owners: tuple[str, ...]  # model labels, lower case
    types: tuple[FileType, ...]


KINDS: dict[str, DocumentKind] = {}


def register_kind(kind: DocumentKind) -> DocumentKind:
    if len(kind.slug) > 40 or not kind.slug.replace("_", "").isalnum():
        raise ValueError(f"document kind {kind.slug!r}: a slug of at most 40 letters and _")
    KINDS[kind.slug] = kind
    return kind


def kind_named(slug: str) -> DocumentKind | None:
    return KINDS.get(slug)


for _kind in (
    DocumentKind("application_form", _("Application form, signed (申报书)"), (PROJECT,), SCANS),
    DocumentKind("commitment", _("Letter of commitment, signed (承诺书)"), (PROJECT,), SCANS),
    DocumentKind(
        "budget_justification",
        _("Budget justification (预算说明)"),
        (PROJECT,),
        (FileType.PDF, *OFFICE),
    ),
    DocumentKind("cooperation_agreement", _("Cooperation agreement (合作协议)"), (PROJECT,), SCANS),
    DocumentKind(
        "task_contract_signed", _("Task contract, signed (任务书)"), (PROJECT,), (FileType.PDF,)
    ),
    DocumentKind(
        "tech_report", _("Tech report, full text (科技报告)"), (PROJECT,), (FileType.PDF,)
    ),
    DocumentKind(
        "acceptance_material",
        _("Acceptance material (验收材料)"),
        (PROJECT,),
        (*SCANS, *OFFICE),
    ),
    DocumentKind("voucher_scan", _("Voucher scan (凭证)"), ("funding.expenditure",), SCANS),
    DocumentKind(
        "audit_report",
        _("Audit report (审计报告)"),
        ("oversight.auditengagement",),
        (FileType.PDF,),
    ),
    DocumentKind(
        "inspection_record",
        _("Inspection record (检查记录)"),
        ("oversight.inspectionresult",),
        SCANS,
    ),
    DocumentKind(
        "case_evidence",
        _("Case evidence (证据材料)"),
        ("integrity.misconductcase",),
        (*SCANS, *OFFICE),
    ),
):
    register_kind(_kind)
