"""Each page module lists its own URLs; they are mounted under /integrity/."""

from .views import cases, evidence, public, register, respondent

urlpatterns = [
    *register.urlpatterns,
    *cases.urlpatterns,
    *evidence.urlpatterns,
    *respondent.urlpatterns,
    *public.urlpatterns,
]
