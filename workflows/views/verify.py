"""The public verification page printed as a QR code on every certificate."""

from django import forms
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from oversight.certificates import check_file
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
    genuine = None
    if request.method == "POST" and form.is_valid():
        genuine = check_file(certificate, form.cleaned_data["file"].read())
    return render(
        request,
        "workflows/verify.html",
        {"certificate": certificate, "form": form, "genuine": genuine},
    )
