"""Benchmark the acceptance certificate PDF: seconds per certificate in a warm process.

    .venv/bin/python bench/bench_certificate_pdf.py [--n 20] [--pdf-variant none]
    .venv/bin/python bench/bench_certificate_pdf.py --rebuild-fonts   # time the font build

Builds the compact PDF fonts if missing (documents.fonts), renders one
certificate cold (the first call in the process, as in a fresh Celery worker), then N
warm ones with different serials, and one whose names hold characters outside the
compact font (they come from the full Noto face: slower, but must still render).
Then, as issued (issue 8): N certificates rendered and signed (PAdES, pyHanko, with a
throwaway RSA-2048 pair made in a temporary directory, as `document_signing_key` makes),
N decision letters rendered and signed, and N signature checks (the verification page's).
The PDF is checked with pdftotext (poppler-utils) when it is installed.
Needs no database. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.25  # per certificate, warm
TITLE = "科技项目验收证书"


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="warm certificates to render")
    parser.add_argument(
        "--pdf-variant",
        default=None,
        help="override documents.pdf.PDF_VARIANT ('none' for plain PDF), to compare",
    )
    parser.add_argument(
        "--rebuild-fonts",
        action="store_true",
        help="also time a font build into a temporary directory (~25 s)",
    )
    parser.add_argument("--save", type=Path, help="write the last warm PDF here")
    return parser.parse_args(argv)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _sample(i: int):
    from oversight.pdf import CertificateData

    serial = f"YS2026-{i:06d}-7F3K"
    return CertificateData(
        project_number=f"KJ2025{i:05d}",
        programme="县级科技计划",
        accepted_on="2026年11月20日",
        panel=("李明华", "王芳", "张伟", "刘洋", "陈静"),
        signatory="局长 王建华",
        serial=serial,
        project_title="基于人工智能的县域农业病虫害智能监测与预警系统研究及示范应用",
        applicant_org="某某县农业科学研究所有限公司",
        pi_name="张建国",
        call_title="2025年度县级科技计划项目（农业与社会发展）",
        field="现代农业",
        approved_amount="480,000.00",
        start_date="2025-01-01",
        end_date="2026-06-30",
        conclusion="通过验收",
        issued_on="2026年11月25日",
        issuer="某某县科学技术局",
        verify_url=f"http://127.0.0.1:8000/verify/{serial}/",
    )


def _timed(func, *args) -> tuple[float, object]:
    start = time.perf_counter()
    value = func(*args)
    return time.perf_counter() - start, value


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def _pdf_text(pdf: bytes) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    proc = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return proc.stdout.decode()


def _page_count(pdf: bytes) -> int | None:
    if shutil.which("pdfinfo") is None:
        return None
    proc = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, text=False)
    for line in proc.stdout.decode().splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def _time_font_build() -> float:
    from documents import fonts

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for key in fonts.ensure_fonts():
            fonts.build_font(key, Path(tmp) / f"{key}.otf")
        return time.perf_counter() - start


def _letter(i: int):
    from integrity.letters import LetterData

    return LetterData(
        number=f"示科信〔2026〕{i}号",
        respondent="张某某",
        identity_label="身份证号",
        identity="330100********1234",
        unit="某某县农业科学研究所有限公司",
        misconduct="提供虚假申报材料",
        facts="经查，被处理人在项目申报材料中提供的专利证书编号在国家知识产权局查无此证。" * 3,
        severity="情节较重",
        measures=["通报批评", "一定期限禁止承担或参与财政资金支持的科技活动"],
        barred=["申报或参与科技计划项目", "项目立项"],
        period="2026年11月25日至2029年11月24日",
        rectify_by="",
        legal_basis="《科研失信行为调查处理规则》第二十条",
        appeal_days=15,
        bureau="某某县科学技术局",
        decided_on="2026年11月25日",
    )


def _signing_pair(folder: Path) -> None:
    """A throwaway pair, as `manage.py document_signing_key` makes, set in the settings."""
    from django.conf import settings

    from documents.signing_keys import make_self_signed_pair

    pair = make_self_signed_pair(
        folder / "key.pem", folder / "cert.pem", common_name="某某县科学技术局"
    )
    settings.DOCUMENT_SIGNING_KEY_FILE = str(pair.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(pair.cert_path)
    settings.DOCUMENT_SIGNING_KEY_PASSWORD = ""


def _issued(n: int) -> dict:
    """Render + sign certificates and letters, and check signatures, N times each (warm)."""
    from documents.signing import check_signature, sign_pdf
    from integrity.letters import letter_pdf, render_letter_pdf
    from oversight import pdf

    def certificate(i):
        data = _sample(i)
        return sign_pdf(pdf.render_certificate_pdf(data), reason=f"{data.heading} {data.serial}")

    certificate(10_000), letter_pdf(_letter(10_000))  # warm the signer and the letter
    issued, sign_only, letters, letters_unsigned, checks = [], [], [], [], []
    signed = b""
    for i in range(1, n + 1):
        seconds, signed = _timed(certificate, 20_000 + i)
        issued.append(seconds)
        unsigned = pdf.render_certificate_pdf(_sample(30_000 + i))
        sign_only.append(_timed(lambda u=unsigned: sign_pdf(u, reason="bench"))[0])
        letters.append(_timed(letter_pdf, _letter(i))[0])
        letters_unsigned.append(_timed(render_letter_pdf, _letter(i))[0])
        checks.append(_timed(check_signature, signed)[0])
    check = check_signature(signed)

    def stats(values):
        return {
            "median": round(statistics.median(values), 4),
            "p95": round(_p95(values), 4),
        }

    return {
        "certificate_render_sign": stats(issued),
        "sign_only": stats(sign_only),
        "letter_render_sign": stats(letters),
        "letter_render_only": stats(letters_unsigned),
        "signature_check": stats(checks),
        "signed_pdf_kb": round(len(signed) / 1024, 1),
        "signature_ok": check.valid,
    }


def _machine() -> dict:
    import weasyprint
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return {
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "weasyprint": weasyprint.__version__,
        # WeasyPrint's own test: without it, it subsets with fontTools, far slower.
        "harfbuzz_subset": bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0)),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    start = time.perf_counter()
    _setup_django()
    from documents import fonts
    from documents import pdf as engine
    from oversight import pdf

    import_seconds = time.perf_counter() - start
    if args.pdf_variant is not None:
        engine.PDF_VARIANT = None if args.pdf_variant == "none" else args.pdf_variant

    built = not all(path.exists() for path in map(fonts.font_path, ("regular", "bold")))
    font_seconds, font_paths = _timed(fonts.ensure_fonts)
    rebuild_seconds = _time_font_build() if args.rebuild_fonts else None

    cold, first = _timed(pdf.render_certificate_pdf, _sample(0))
    warm, document = [], first
    for i in range(1, args.n + 1):
        seconds, document = _timed(pdf.render_certificate_pdf, _sample(i))
        warm.append(seconds)
    rare_data = dataclasses.replace(
        _sample(args.n + 1), pi_name="王赟㛃", applicant_org="某某堃喆研究院"
    )
    rare_seconds, rare_pdf = _timed(pdf.render_certificate_pdf, rare_data)
    if args.save:
        args.save.write_bytes(document)

    with tempfile.TemporaryDirectory() as folder:
        _signing_pair(Path(folder))
        issued = _issued(args.n)

    text = _pdf_text(document)
    rare_text = _pdf_text(rare_pdf)
    result = {
        "bench": "certificate_pdf",
        "n": args.n,
        "pdf_variant": engine.PDF_VARIANT,
        "import_setup_seconds": round(import_seconds, 3),
        "fonts_built_now": built,
        "font_ensure_seconds": round(font_seconds, 3),
        "font_build_seconds": round(rebuild_seconds, 2) if rebuild_seconds else None,
        "font_sizes_kb": {key: path.stat().st_size // 1024 for key, path in font_paths.items()},
        "cold_seconds": round(cold, 4),
        "warm_median_seconds": round(statistics.median(warm), 4),
        "warm_p95_seconds": round(_p95(warm), 4),
        "warm_min_seconds": round(min(warm), 4),
        "rare_chars_seconds": round(rare_seconds, 4),
        "pdf_kb": round(len(document) / 1024, 1),
        "rare_chars_pdf_kb": round(len(rare_pdf) / 1024, 1),
        "pages": _page_count(document),
        "text_ok": None if text is None else TITLE in text,
        "rare_text_ok": None if rare_text is None else "王赟㛃" in rare_text,
        "issued": issued,
        "target_seconds": TARGET_SECONDS,
        "machine": _machine(),
    }
    m = result["machine"]
    print(f"fonts: {'built' if built else 'cached'} in {font_seconds:.2f} s ({font_paths})")
    if rebuild_seconds is not None:
        print(f"font build (both faces, into a temp dir): {rebuild_seconds:.1f} s")
    print(f"import + django.setup: {import_seconds:.2f} s")
    print(f"cold first render: {cold:.3f} s")
    print(
        f"warm ({args.n}): median {result['warm_median_seconds']:.3f} s, "
        f"p95 {result['warm_p95_seconds']:.3f} s  (target <= {TARGET_SECONDS} s)"
    )
    print(f"rare characters (full Noto fallback): {rare_seconds:.3f} s")
    for key in ("certificate_render_sign", "sign_only", "letter_render_sign", "signature_check"):
        values = issued[key]
        print(f"{key} ({args.n}): median {values['median']:.3f} s, p95 {values['p95']:.3f} s")
    print(f"signed PDF: {issued['signed_pdf_kb']} KB, signature valid {issued['signature_ok']}")
    print(f"PDF size: {result['pdf_kb']} KB ({result['rare_chars_pdf_kb']} KB with rare chars)")
    print(f"variant: {engine.PDF_VARIANT}; pages {result['pages']}; text ok {result['text_ok']}")
    print(
        f"machine: {m['cpu']}, nproc {m['nproc']}, Python {m['python']}, "
        f"WeasyPrint {m['weasyprint']}, HarfBuzz-subset {'yes' if m['harfbuzz_subset'] else 'no'}, "
        f"{m['date']}"
    )
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    ok = (
        result["text_ok"] is not False
        and result["rare_text_ok"] is not False
        and issued["signature_ok"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
