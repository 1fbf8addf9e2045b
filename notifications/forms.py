from django import forms

from accounts.text import BoundedFormMixin

from .models import EmailPreference


class EmailPreferenceForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = EmailPreference
        fields = ["email_task", "email_return", "email_decision", "email_deadline"]
