"""Sign-in and sign-out at the site's root (`/login/`, `/logout/`), as before."""

from django.urls import path

from . import views_signin

urlpatterns = [
    path("login/", views_signin.SignInView.as_view(), name="login"),
    path("logout/", views_signin.SignOutView.as_view(), name="logout"),
]
