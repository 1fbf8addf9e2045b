"""The public verification page printed as a QR code on every certificate.

An uploaded file is judged twice: byte for byte against the file we issued
(oversight.certificates.judge_file, never green under a revoked certificate), and by its
PDF signature (documents.signing.check_signature), which tells an altered file from ours
even when the holder's copy is not the one we compare with.
"""

from django import forms
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from oversight.certificates import FileVerdict, judge_file
from oversight.models import Certificate

MAX_UPLOAD = 10 * 1024 * 1024


class VerifyForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(label=_("Certificate PDF to check"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than any certificate we issue."))
        return upload


def verify(request, serial: str):
    certificate = get_object_or_404(
        Certificate.objects.select_related("project__applicant_org"), serial=serial
    )
    form = VerifyForm(request.POST or None, request.FILES or None)
    verdict = signature = None
    if request.method == "POST" and form.is_valid():
        # pyHanko and WeasyPrint load when a file is checked, not when the site starts.
        from documents.signing import check_signature

        content = form.cleaned_data["file"].read()
        verdict = judge_file(certificate, content)
        signature = check_signature(content)
    context = {
        "certificate": certificate,
        "form": form,
        "verdict": verdict,
        "signature": signature,
        # True only for the green answer; kept for the pages and tests that read it.
        "genuine": None if verdict is None else verdict == FileVerdict.GENUINE,
    }
    return render(request, "workflows/verify.html", context)
