"""Settings, all from the environment (django-environ); defaults suit the SQLite demo."""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="demo-only-insecure-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Absolute address printed in the certificate's QR code.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_tables2",
    "viewflow",
    "viewflow.workflow",
    "accounts",
    "trail",
    "documents",
    "integrity",
    "funding",
    "oversight",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo server runs threads; wait for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {"TITLE": "KJJG API", "VERSION": "0.1.0"}

# Celery: Redis when CELERY_BROKER_URL is set, otherwise tasks run in-process (the demo).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://"
_IN_PROCESS = CELERY_BROKER_URL == "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=_IN_PROCESS)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND", default=None if _IN_PROCESS else CELERY_BROKER_URL
)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="kjjg")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `celery -A config beat` sends the daily reminders of progress reports due.
# Daily jobs of `celery -A config beat`.
DAY = 24 * 3600
CELERY_BEAT_SCHEDULE = {
    # Progress reports due: one reminder a day.
    "remind-due-reports": {"task": "oversight.tasks.remind_due_reports", "schedule": DAY},
    # A sanction whose start has come suspends the subject's projects on its day.
    "enforce-sanctions": {"task": "integrity.tasks.enforce_sanctions_in_force", "schedule": DAY},
    # Acceptance overdue by ACCEPTANCE_OVERDUE_CASE_MONTHS proposes an integrity case.
    "propose-overdue-cases": {
        "task": "oversight.tasks.propose_overdue_acceptance_cases",
        "schedule": DAY,
    },
    # The trail's head, signed with a key outside the database.
    "checkpoint-trail": {"task": "trail.tasks.checkpoint_trail", "schedule": DAY},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@kjj.example.gov.cn")

# Funding rules from DESIGN §6: thresholds in yuan.
SPECIAL_AUDIT_THRESHOLD = env("SPECIAL_AUDIT_THRESHOLD", default="500000")
SIMPLE_FILING_THRESHOLD = env("SIMPLE_FILING_THRESHOLD", default="50000")
MIN_REVIEW_EXPERTS = env.int("MIN_REVIEW_EXPERTS", default=3)
MIN_ACCEPTANCE_PANEL = env.int("MIN_ACCEPTANCE_PANEL", default=5)
# Fund-trail flags for auditors (yuan; share of spending).
LARGE_CASH_PAYMENT = env("LARGE_CASH_PAYMENT", default="5000")
APPROVAL_THRESHOLD = env("APPROVAL_THRESHOLD", default="50000")
LAST_MONTH_RUSH_SHARE = env("LAST_MONTH_RUSH_SHARE", default="0.3")
BUREAU_NAME = env("BUREAU_NAME", default="示范县科学技术局")

# Integrity (DESIGN §4, §7). No two-person override ever opens a gate to these severities
# or measures (严重/特别严重; 禁止承担或参与).
VETO_NO_OVERRIDE_SEVERITIES = env.list("VETO_NO_OVERRIDE_SEVERITIES", default=["severe", "extreme"])
VETO_NO_OVERRIDE_MEASURES = env.list("VETO_NO_OVERRIDE_MEASURES", default=["ban"])
# Days to file an appeal (申诉) after the decision is served, and a review (复查) after
# the appeal's answer; both unverified defaults, set them from the local rules.
APPEAL_DAYS = env.int("APPEAL_DAYS", default=15)
REVIEW_DAYS = env.int("REVIEW_DAYS", default=15)
# Acceptance this many months overdue proposes a misconduct case (DESIGN §6).
ACCEPTANCE_OVERDUE_CASE_MONTHS = env.int("ACCEPTANCE_OVERDUE_CASE_MONTHS", default=6)

# Production hardening: on when DJANGO_DEBUG is off and DJANGO_SECURE is on (behind TLS).
if env.bool("DJANGO_SECURE", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Trail checkpoints (DESIGN §4): the signing key never goes into the database. ---
# TRAIL_SIGNING_KEY: an Ed25519 private key as PEM (PKCS#8) text; if empty, the PEM file
# TRAIL_SIGNING_KEY_FILE is read (relative paths from the project root; `trail_key` makes it).
TRAIL_SIGNING_KEY = env("TRAIL_SIGNING_KEY", default="")
TRAIL_SIGNING_KEY_FILE = env("TRAIL_SIGNING_KEY_FILE", default=str(VAR_DIR / "trail-signing.key"))
# Public keys of earlier (rotated) signing keys, base64 of the raw 32 bytes, comma-separated.
TRAIL_PUBLIC_KEYS = env.list("TRAIL_PUBLIC_KEYS", default=[])
# The daily job `checkpoint-trail` is in CELERY_BEAT_SCHEDULE above.
# --- end of trail checkpoints ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
