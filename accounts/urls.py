from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_lockouts, views_password, views_signin, views_two_factor

urlpatterns = [
    path("identity/", views.identity, name="account-identity"),
    # Password: change when signed in, reset by an e-mailed link (Django's views, journaled).
    path("password/", views_password.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views_password.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views_password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Two-factor sign-in.
    path("two-factor/", views_two_factor.two_factor, name="account-two-factor"),
    path(
        "two-factor/remove/",
        views_two_factor.remove_two_factor,
        name="account-two-factor-remove",
    ),
    path("two-factor/code/", views_signin.code_step, name="account-two-factor-verify"),
    # Bureau staff: lockouts and two-factor resets.
    path("sign-in/lockouts/", views_lockouts.lockouts, name="account-lockouts"),
]
