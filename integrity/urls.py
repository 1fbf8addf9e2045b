"""Each page module lists its own URLs; they are mounted under /integrity/."""

from .views import cases, public, register

urlpatterns = [*register.urlpatterns, *cases.urlpatterns, *public.urlpatterns]
