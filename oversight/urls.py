"""Oversight's pages: the lists of issue 11. Mounted at the site's root."""

from django.urls import path

from .lists import adjustments, certificates, projects, vouchers

urlpatterns = [
    path("projects/", projects.project_list, name="projects"),
    path("vouchers/", vouchers.voucher_list, name="vouchers"),
    path("adjustments/", adjustments.adjustment_list, name="adjustments"),
    path("certificates/", certificates.certificate_list, name="certificates"),
]
