"""The decision letter (处理决定书): printed once, signed, stored with its SHA-256, never changed.

An official Chinese document: its labels are literal Chinese (like the acceptance
certificate), whatever the officer's language. A person's ID number is printed masked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.identity import mask_id_number
from trail.kinds import EventKind
from trail.services import record

from .models import (
    DecisionLetter,
    Gate,
    Measure,
    MisconductCase,
    MisconductType,
    Severity,
    SubjectKind,
)

TEMPLATE = "integrity/decision_letter.html"

MISCONDUCT_ZH = {
    MisconductType.PLAGIARISM: "抄袭、剽窃、侵占他人研究成果或项目申请书",
    MisconductType.FABRICATION: "编造研究过程，伪造、篡改研究数据、图表、结论、检测报告",
    MisconductType.GHOSTWRITING: "买卖、代写、代投论文或项目申报验收材料",
    MisconductType.FRAUD: "以弄虚作假、请托等方式获得科技计划项目、科研经费或奖励",
    MisconductType.ETHICS: "伪造科技伦理审查批件",
    MisconductType.AUTHORSHIP: "无实质学术贡献署名等违反论文署名规范",
    MisconductType.DUPLICATION: "重复发表、引用与研究内容无关的文献或要求引用",
    MisconductType.FALSE_APPLICATION: "提供虚假申报材料",
    MisconductType.LOBBYING: "请托、游说评审专家",
    MisconductType.MISUSE: "虚报、冒领、挪用科研经费",
    MisconductType.CONTRACT: "违反项目任务书约定",
    MisconductType.FALSE_RECTIFICATION: "虚假整改",
    MisconductType.OTHER: "其他科研失信行为",
}
MEASURE_ZH = {
    Measure.TALK: "诫勉谈话",
    Measure.CRITICISM: "通报批评",
    Measure.SUSPEND_RECTIFY: "暂停项目限期整改",
    Measure.TERMINATE: "终止或撤销项目并追回经费",
    Measure.BAN: "一定期限禁止承担或参与财政资金支持的科技活动",
    Measure.DISQUALIFY_EXPERT: "取消评审专家资格",
    Measure.SERIOUS_LIST: "记入严重失信行为数据库",
}
SEVERITY_ZH = {
    Severity.MINOR: "情节较轻",
    Severity.SERIOUS: "情节较重",
    Severity.SEVERE: "情节严重",
    Severity.EXTREME: "情节特别严重",
}
GATE_ZH = {
    Gate.APPLY: "申报或参与科技计划项目",
    Gate.REVIEW: "担任评审专家（评审、验收、检查）",
    Gate.APPROVAL: "项目立项",
    Gate.CONTRACT: "签订任务书",
    Gate.DISBURSEMENT: "拨付经费",
    Gate.AUDIT: "承担第三方审计",
    Gate.CERTIFICATE: "取得验收证书",
}


def chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class LetterData:
    number: str
    respondent: str
    identity_label: str  # 身份证号 or 统一社会信用代码
    identity: str  # masked for a person
    unit: str
    misconduct: str
    facts: str  # user text: escaped by the template
    severity: str
    measures: list[str]
    barred: list[str]
    period: str
    rectify_by: str
    legal_basis: str
    appeal_days: int
    bureau: str
    decided_on: str


def letter_data(case: MisconductCase) -> LetterData:
    sanction = case.sanction
    person = case.respondent_kind == SubjectKind.PERSON
    if sanction.ends_on is None:
        period = f"自{chinese_date(sanction.starts_on)}起，永久"
    else:
        period = f"{chinese_date(sanction.starts_on)}至{chinese_date(sanction.ends_on)}"
    return LetterData(
        number=case.decision_no,
        respondent=case.respondent_name,
        identity_label="身份证号" if person else "统一社会信用代码",
        identity=mask_id_number(case.respondent_id) if person else case.respondent_id,
        unit=case.respondent_unit,
        misconduct=MISCONDUCT_ZH.get(case.misconduct, case.misconduct),
        facts=sanction.reason,
        severity=SEVERITY_ZH.get(sanction.severity, sanction.severity),
        measures=[MEASURE_ZH.get(m, m) for m in sanction.measures],
        barred=[GATE_ZH.get(g, g) for g in sanction.gates],
        period=period,
        rectify_by=chinese_date(sanction.rectify_by) if sanction.rectify_by else "",
        legal_basis=case.legal_basis,
        appeal_days=settings.APPEAL_DAYS,
        bureau=getattr(settings, "BUREAU_NAME", ""),
        decided_on=chinese_date(case.decided_on or timezone.localdate()),
    )


def render_letter_pdf(data: LetterData) -> bytes:
    from documents.pdf import render_pdf  # WeasyPrint loads only when a letter is printed

    return render_pdf(TEMPLATE, {"letter": data})


def letter_pdf(data: LetterData) -> bytes:
    """The letter as it is issued: printed, then signed with the bureau's key (PAdES)."""
    from documents.signing import sign_pdf  # pyHanko too

    return sign_pdf(render_letter_pdf(data), reason=f"处理决定书 {data.number}")


def generate_letter(letter_id: int) -> DecisionLetter:
    """Print and store the PDF once; a second call (or a race) changes nothing."""
    letter = DecisionLetter.objects.select_related("case__sanction").get(pk=letter_id)
    if letter.pdf:
        return letter
    pdf = letter_pdf(letter_data(letter.case))  # slow: outside the lock; signed bytes stored
    with transaction.atomic():
        locked = DecisionLetter.objects.select_for_update().get(pk=letter_id)
        if locked.pdf:  # another run stored it first
            return locked
        locked.pdf, locked.sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        locked.generated_at = timezone.now()
        locked.save(update_fields=["pdf", "sha256", "generated_at"])
        record(
            EventKind.CASE_TRANSITION,
            locked.case,
            data={"step": "letter", "decision": locked.number, "sha256": locked.sha256},
        )
    return locked
