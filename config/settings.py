"""Settings, all from the environment (django-environ); defaults suit the SQLite demo."""

import datetime
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
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
    # Before axes: our journaled axes_reset* commands take the place of axes' own.
    "accounts",
    # Sign-in hardening (issue 6): lockouts, two-factor devices, the CSP header.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "trail",
    "documents",
    "lists",  # filter, sort, page and export lists (issue 11)
    "integrity",
    "funding",
    "oversight",
    "notifications",  # the notification centre and e-mails (issue 11)
    "workplan",  # yearly targets, monthly actuals, upward recommendations (issue 11)
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pushes an idle session's expiry ahead at most once a minute (SESSION_REFRESH_SECONDS).
    "accounts.session_refresh.SessionRefreshMiddleware",
    "config.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After OTPMiddleware: half-signed-in people reach only the two-factor step.
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
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
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
}
# PostgreSQL: each thread keeps its connection between requests for up to a minute (and
# checks it before reuse), instead of a new backend per request: the rush of 200 at once
# ended in 12.7-12.9 s instead of 15.2-16.0 (docs/performance.md, issue 10). A web machine
# holds at most processes x threads connections. SQLite opens a file: nothing to keep.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE",
    default=0 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 60,
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo server runs threads; wait for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# axes first: it refuses a locked-out name or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Checked when a password is set through a form (change, reset, admin), not on old ones.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {
            "user_attributes": ("username", "real_name", "first_name", "last_name", "email")
        },
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
# A list's export holds at most this many rows; more asks the user to narrow the filters.
LIST_EXPORT_MAX_ROWS = env.int("LIST_EXPORT_MAX_ROWS", default=50_000)
# ISO dates first in Chinese forms (the admin's too): config/formats/zh_Hans.
FORMAT_MODULE_PATH = ["config.formats"]
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

# The read API: API tokens (accounts.api_tokens) or the session; a token reaches a view
# only with the view's scope. Throttles count in the default cache (per process unless
# the cache is shared, e.g. Redis): requests per signed-in user, and per address.
API_USER_RATE = env("API_USER_RATE", default="1000/hour")
API_ANON_RATE = env("API_ANON_RATE", default="60/hour")
for _rate in (API_USER_RATE, API_ANON_RATE):  # a typo here would fail every API request
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(f"API rate {_rate!r}: write it like 1000/hour or 60/minute")
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The token first: its 401 challenge is the one DRF answers with.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api_auth.HasScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api_auth.AnonRateThrottle",
        "accounts.api_auth.UserRateThrottle",
    ],
    # The address of a caller not signed in, as sign-in lockouts read it (the same
    # trusted proxies); unset, DRF would trust any X-Forwarded-For a caller sends.
    "NUM_PROXIES": env.int("SIGN_IN_PROXY_COUNT", default=0),
    # The browsable API only while developing.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Every list comes in pages, whatever a view forgets (issue 10): 50 a page, a size the
    # caller cannot change unless the view says so (workflows.api.CappedPagination).
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KJJG API",
    "VERSION": "0.1.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

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
# Daily jobs of `celery -A config beat`.
DAY = 24 * 3600
CELERY_BEAT_SCHEDULE = {
    # A sanction whose start has come suspends the subject's projects on its day.
    "enforce-sanctions": {"task": "integrity.tasks.enforce_sanctions_in_force", "schedule": DAY},
    # Acceptance overdue by ACCEPTANCE_OVERDUE_CASE_MONTHS proposes an integrity case.
    "propose-overdue-cases": {
        "task": "oversight.tasks.propose_overdue_acceptance_cases",
        "schedule": DAY,
    },
    # The trail's head, signed with a key outside the database.
    "checkpoint-trail": {"task": "trail.tasks.checkpoint_trail", "schedule": DAY},
    # Deadlines approaching and missed (expert reviews, progress reports, rectifications,
    # acceptance requests): notified once a day each, e-mailed as each person chooses
    # (issue 11). It replaces the jobs remind-due-reports and remind-due-reviews.
    "deadline-reminders": {"task": "notifications.tasks.deadline_reminders", "schedule": DAY},
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

# --- Uploads (issue 6) ---
# The expenditure ledger import reads the whole file within these limits before it locks
# the project; a file past one is refused with a message naming the limit, nothing stored.
# Largest upload, in bytes (also put a body-size limit in the proxy in front, e.g. 6m).
# The file is streamed (a temporary file past 2.5 MB), never read into memory whole.
LEDGER_IMPORT_MAX_BYTES = env.int("LEDGER_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Data rows in one file (the header row not counted). The rows are kept until written,
# about 500 bytes each: 100,000 rows (with 16 MB above) take about 2 s and 50 MB on
# PostgreSQL (docs/performance.md, issue 10).
LEDGER_IMPORT_MAX_ROWS = env.int("LEDGER_IMPORT_MAX_ROWS", default=20000)
# Characters in one cell, any column.
LEDGER_IMPORT_MAX_CELL_CHARS = env.int("LEDGER_IMPORT_MAX_CELL_CHARS", default=1000)
# XLSX: bytes all parts of the archive unpack to, judged before openpyxl opens it (it
# reads the shared strings whole, so this bounds its memory).
LEDGER_IMPORT_MAX_UNZIPPED_BYTES = env.int(
    "LEDGER_IMPORT_MAX_UNZIPPED_BYTES", default=50 * 1024 * 1024
)
# XLSX: the highest compression ratio of a part above 1 MiB (real exports: about 15).
LEDGER_IMPORT_MAX_ZIP_RATIO = env.int("LEDGER_IMPORT_MAX_ZIP_RATIO", default=100)
# Seconds one reading of a file may take (a monotonic deadline checked on every row).
LEDGER_IMPORT_SECONDS = env.float("LEDGER_IMPORT_SECONDS", default=20)
# Files with more data rows than this are imported by a Celery task, with a progress page.
LEDGER_IMPORT_SYNC_ROWS = env.int("LEDGER_IMPORT_SYNC_ROWS", default=500)
# A job unfinished after this many minutes is shown as stuck (worker down, message lost).
LEDGER_IMPORT_STUCK_MINUTES = env.int("LEDGER_IMPORT_STUCK_MINUTES", default=30)
# Where such files wait for their task (the default storage). With workers on other
# machines it must be shared storage. Django's own DATA_UPLOAD_MAX_MEMORY_SIZE (form
# fields) and FILE_UPLOAD_MAX_MEMORY_SIZE (larger files go to a temporary file) keep
# their defaults of 2.5 MB.
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
# --- end of uploads ---

# --- Sign-in and sessions (issue 6) ---
# Failed sign-ins (django-axes), on the site and the admin: AXES_FAILURE_LIMIT failures
# within AXES_COOLOFF_MINUTES lock the account name, and separately the address, until
# the cool-off has passed since the last failure (0 minutes: until staff unlock it at
# /account/sign-in/lockouts/). A success does not clear earlier failures unless
# AXES_RESET_ON_SUCCESS (it would let one known password reset an address's count).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=60)
# In hours, as axes reads a float; None: no cool-off.
AXES_COOLOFF_TIME = _AXES_COOLOFF_MINUTES / 60 if _AXES_COOLOFF_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = env.bool("AXES_RESET_ON_SUCCESS", default=False)
AXES_LOCKOUT_CALLABLE = "accounts.lockouts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockouts.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockouts.username_of"
# Trusted proxies in front that append to X-Forwarded-For (1 behind one TLS proxy);
# 0 reads REMOTE_ADDR. Wrong here, every caller shares the proxy's address (and its lock).
SIGN_IN_PROXY_COUNT = env.int("SIGN_IN_PROXY_COUNT", default=0)
# Two-factor sign-in (django-otp, TOTP apps plus backup codes): open to everyone; when
# TWO_FACTOR_REQUIRED, these roles and every superuser must use it (on in production).
# Production (DJANGO_SECURE on) requires it unless TWO_FACTOR_REQUIRED says otherwise.
TWO_FACTOR_REQUIRED = env.bool(
    "TWO_FACTOR_REQUIRED", default=env.bool("DJANGO_SECURE", default=False)
)
TWO_FACTOR_REQUIRED_ROLES = env.list(
    "TWO_FACTOR_REQUIRED_ROLES", default=["staff", "leader", "integrity_officer"]
)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default=BUREAU_NAME)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no TOTP secrets on admin pages
# Idle sessions end: a request pushes the session's expiry SESSION_IDLE_SECONDS ahead,
# saving it only when its last save is SESSION_REFRESH_SECONDS old or more
# (accounts.session_refresh), not on every request; the cookie also goes when the
# browser closes.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=1800)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# Passwords: Argon2id with OWASP's parameters (accounts/hashers.py says why); the PBKDF2
# hashes made before are still checked, and re-made with Argon2id at the next sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Browser policies, in every setting: no inline script or style, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "interest-cohort": [],
}
SECURE_REFERRER_POLICY = "same-origin"
# Password reset mails per hour: from one address, and to one e-mail address.
PASSWORD_RESET_PER_ADDRESS = env.int("PASSWORD_RESET_PER_ADDRESS", default=10)
PASSWORD_RESET_PER_EMAIL = env.int("PASSWORD_RESET_PER_EMAIL", default=3)
# --- end of sign-in and sessions ---

# --- Public notice (issue 7) ---
# 立项公示: the notice runs this many working days after the day of approval (that day does
# not count) and may close from the day after. Working days are Monday to Friday, less
# NOTICE_HOLIDAYS (法定节假日), plus NOTICE_EXTRA_WORKING_DAYS (weekend days worked in
# exchange, 调休上班): ISO dates, comma-separated, from the State Council's yearly notice.
PUBLIC_NOTICE_WORKING_DAYS = env.int("PUBLIC_NOTICE_WORKING_DAYS", default=5)
if PUBLIC_NOTICE_WORKING_DAYS < 0:
    raise ImproperlyConfigured("PUBLIC_NOTICE_WORKING_DAYS: a number of days, 0 or more")


def _iso_dates(name: str) -> list[datetime.date]:
    try:
        return [datetime.date.fromisoformat(d) for d in env.list(name, default=[])]
    except ValueError as error:  # a typo would otherwise fail every approval
        raise ImproperlyConfigured(f"{name}: write dates like 2026-10-01 ({error})") from None


NOTICE_HOLIDAYS = _iso_dates("NOTICE_HOLIDAYS")
NOTICE_EXTRA_WORKING_DAYS = _iso_dates("NOTICE_EXTRA_WORKING_DAYS")
# Objections (异议) anyone may lodge from one address in an hour.
OBJECTIONS_PER_ADDRESS = env.int("OBJECTIONS_PER_ADDRESS", default=5)
# --- end of public notice ---

# --- Panel (issue 7) ---
# The acceptance conclusion's rule: the project passes when at least this share of the
# drawn panel's task verdicts, and of its finance verdicts, are a pass ("2/3" or "0.67").
ACCEPTANCE_PASS_SHARE = env("ACCEPTANCE_PASS_SHARE", default="2/3")
try:
    from fractions import Fraction as _Fraction

    _share = _Fraction(ACCEPTANCE_PASS_SHARE)
except (ValueError, ZeroDivisionError):
    _share = None
if _share is None or not 0 < _share <= 1:
    raise ImproperlyConfigured("ACCEPTANCE_PASS_SHARE: a share above 0 and at most 1, like 2/3")
# Months the PI has to rectify after the one reconsideration (需要复议), DESIGN §7.
RECONSIDERATION_MONTHS = env.int("RECONSIDERATION_MONTHS", default=3)
# --- end of Panel ---

# --- Pool (issue 7) ---
# Days an expert has to review after being assigned (REVIEW_DAYS is the integrity case
# review's 复查 period, hence the longer name).
EXPERT_REVIEW_DAYS = env.int("EXPERT_REVIEW_DAYS", default=14)
# The daily job `deadline-reminders` notifies an expert from this many days before the
# due date (and while the review is late), once a day.
REVIEW_REMIND_DAYS = env.int("REVIEW_REMIND_DAYS", default=3)
# The review summary flags a review whose total is more than this many points from the mean.
REVIEW_DIVERGENCE = env.int("REVIEW_DIVERGENCE", default=15)
# --- end of Pool ---

# --- Signed documents (issue 8) ---
# Certificates and decision letters carry a PAdES signature made with the bureau's key and
# X.509 certificate, PEM files (relative paths from the project root). `manage.py
# document_signing_key` makes a self-signed demo pair; production installs its own. Without
# the files the PDFs are stored unsigned and the verification page says so; start-up logs a
# warning when a signature is expected (DOCUMENT_SIGNING_EXPECTED, on with DJANGO_SECURE).
DOCUMENT_SIGNING_KEY_FILE = env(
    "DOCUMENT_SIGNING_KEY_FILE", default=str(VAR_DIR / "document-signing-key.pem")
)
DOCUMENT_SIGNING_CERT_FILE = env(
    "DOCUMENT_SIGNING_CERT_FILE", default=str(VAR_DIR / "document-signing-cert.pem")
)
DOCUMENT_SIGNING_KEY_PASSWORD = env("DOCUMENT_SIGNING_KEY_PASSWORD", default="")
# Certificates of earlier (rotated) keys, PEM paths comma-separated: files signed with them
# are still reported as ours.
DOCUMENT_SIGNING_EARLIER_CERT_FILES = env.list("DOCUMENT_SIGNING_EARLIER_CERT_FILES", default=[])
DOCUMENT_SIGNING_EXPECTED = env.bool(
    "DOCUMENT_SIGNING_EXPECTED", default=env.bool("DJANGO_SECURE", default=False)
)
# The certificate as an official document: the project number's prefix (立项编号, see
# oversight/numbers.py), the signatory line, and an optional seal image (a local PNG file).
BUREAU_PROJECT_PREFIX = env("BUREAU_PROJECT_PREFIX", default="KJ")
CERTIFICATE_SIGNATORY = env("CERTIFICATE_SIGNATORY", default="")
CERTIFICATE_SEAL_IMAGE = env("CERTIFICATE_SEAL_IMAGE", default="")
# --- end of signed documents ---

# --- Documents (issue 8) ---
# Uploaded documents (documents.attachments): the largest file, in bytes, for every kind,
# and per kind (kind=bytes, comma-separated, e.g. "voucher_scan=5242880,tech_report=52428800").
# Also limit the request body in the proxy in front to the largest of these.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)
try:
    DOCUMENT_KIND_MAX_BYTES = {
        kind: int(limit) for kind, limit in env.dict("DOCUMENT_KIND_MAX_BYTES", default={}).items()
    }
except ValueError:
    raise ImproperlyConfigured(
        "DOCUMENT_KIND_MAX_BYTES: write kind=bytes pairs, like voucher_scan=5242880"
    ) from None
# Removing a document marks it removed (journaled) and keeps the file for the record; on:
# the file is also deleted from the storage (the row, its name and SHA-256 stay).
DOCUMENT_PURGE_ON_REMOVE = env.bool("DOCUMENT_PURGE_ON_REMOVE", default=False)
# Files live in STORAGES["default"]: MEDIA_ROOT (var/media) unless a bucket is named, then
# an S3-compatible object store (django-storages), shared by every web and worker machine.
# Downloads always go through our view (no public URLs, no signed links).
DOCUMENT_S3_BUCKET = env("DOCUMENT_S3_BUCKET", default="")
if DOCUMENT_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENT_S3_BUCKET,
            # e.g. http://minio.internal:9000; empty: AWS S3 itself.
            "endpoint_url": env("DOCUMENT_S3_ENDPOINT_URL", default="") or None,
            # Empty: boto3's own chain (AWS_* variables, instance role, ~/.aws).
            "access_key": env("DOCUMENT_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("DOCUMENT_S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env("DOCUMENT_S3_REGION", default="") or None,
            # "path" for most self-hosted stores (MinIO, Ceph); "virtual" or empty for AWS.
            "addressing_style": env("DOCUMENT_S3_ADDRESSING_STYLE", default="") or None,
            "location": env("DOCUMENT_S3_PREFIX", default=""),
            "default_acl": None,  # the bucket's own (private) policy
            "querystring_auth": False,  # no signed URLs: downloads are proxied
            "file_overwrite": False,
            # A download is buffered here before it streams out; past this, on disk.
            "max_memory_size": env.int("DOCUMENT_S3_MAX_MEMORY_BYTES", default=2 * 1024 * 1024),
        },
    }
# --- end of documents ---


# --- Trail checkpoints (DESIGN §4): the signing key never goes into the database. ---
# TRAIL_SIGNING_KEY: an Ed25519 private key as PEM (PKCS#8) text; if empty, the PEM file
# TRAIL_SIGNING_KEY_FILE is read (relative paths from the project root; `trail_key` makes it).
TRAIL_SIGNING_KEY = env("TRAIL_SIGNING_KEY", default="")
TRAIL_SIGNING_KEY_FILE = env("TRAIL_SIGNING_KEY_FILE", default=str(VAR_DIR / "trail-signing.key"))
# Public keys of earlier (rotated) signing keys, base64 of the raw 32 bytes, comma-separated.
TRAIL_PUBLIC_KEYS = env.list("TRAIL_PUBLIC_KEYS", default=[])
# The daily job `checkpoint-trail` is in CELERY_BEAT_SCHEDULE above.
# --- end of trail checkpoints ---

# --- Third-party supervision (issue 9, DESIGN §6) ---
# Projects approved at or above this amount (yuan) get a supervision firm from the
# contract to acceptance; the same as the special-audit threshold by default.
SUPERVISION_THRESHOLD = env("SUPERVISION_THRESHOLD", default="500000")
# The firm checks the funds every this many months (quarterly), from its appointment.
SUPERVISION_CHECK_MONTHS = env.int("SUPERVISION_CHECK_MONTHS", default=3)
if SUPERVISION_CHECK_MONTHS < 1:
    raise ImproperlyConfigured("SUPERVISION_CHECK_MONTHS: a whole number of months, 1 or more")
# Daily: the fund checks that have fallen due are created for every running engagement.
CELERY_BEAT_SCHEDULE["schedule-fund-checks"] = {
    "task": "oversight.tasks.schedule_fund_checks",
    "schedule": DAY,
}
# --- end of third-party supervision ---

# --- Amounts and spending controls (issue 9, DESIGN §5) ---
# The largest amount any form, import or API call takes, in yuan (funding/amounts.py);
# at most the database column's 999999999999.99.
AMOUNT_MAX = env("AMOUNT_MAX", default="100000000")
# A payment at or above this many yuan to a vague payee (个人, 现金, 多人, ...; the list is
# funding.flags.VAGUE_PAYEES) is a red flag on the fund trail.
LARGE_VAGUE_PAYMENT = env("LARGE_VAGUE_PAYMENT", default="50000")
# The first disbursement is due within this many days of signing the task contract; a
# project paid later, or still unpaid after it, is shown late on the overview.
FIRST_DISBURSEMENT_DAYS = env.int("FIRST_DISBURSEMENT_DAYS", default=30)
for _name in ("AMOUNT_MAX", "LARGE_VAGUE_PAYMENT"):  # a typo would fail every amount
    _value = globals()[_name]
    if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", _value) or not float(_value) > 0:
        raise ImproperlyConfigured(
            f"{_name}: an amount in yuan above 0, written in full with at most two "
            "decimals, like 100000000 or 50000.00 (at most 999999999999.99)"
        )
if FIRST_DISBURSEMENT_DAYS < 0:
    raise ImproperlyConfigured("FIRST_DISBURSEMENT_DAYS: a number of days, 0 or more")
# --- end of amounts and spending controls ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# --- Production operations (issue 10) ---
# Health probes (django-health-check; `/health/` liveness, `/ready/` readiness) and the
# backup/restore commands live in the `ops` app.
INSTALLED_APPS += ["health_check", "ops"]
# Probes reach the server directly over plain HTTP: no redirect to HTTPS for them.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
# `manage.py backup` writes a timestamped directory here (relative paths from the root).
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(VAR_DIR / "backups")))
if not BACKUP_DIR.is_absolute():
    BACKUP_DIR = BASE_DIR / BACKUP_DIR
# --- end of production operations ---
