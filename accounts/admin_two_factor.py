"""django-otp's device admins are taken out: a device edited there would change who can
sign in without a trail event. Devices change only on the two-factor pages (the person
themselves, or staff resetting a lost phone), each journaled (accounts.two_factor)."""

from django.contrib import admin
from django_otp.plugins.otp_static import admin as static_admin  # noqa: F401  (registers)
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as totp_admin  # noqa: F401  (registers)
from django_otp.plugins.otp_totp.models import TOTPDevice

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
