"""MétalTech settings: one module, every deploy-time value from the environment.

Defaults are safe for production: DEBUG is off, and then a strong SECRET_KEY and an
explicit ALLOWED_HOSTS are required. ``make run`` turns DEBUG on for local work.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _flag(name: str, *, default: bool) -> bool:
    """A yes/no setting; a typo ("flase") stops the start instead of meaning "no"."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off.")
    return raw in _TRUE


DEBUG = _flag("DEBUG", default=False)

# Django's own check (security.W009) calls a key weak below 50 characters or 5
# distinct characters; we refuse to start rather than warn.
_INSECURE_PREFIX = "django-insecure-"
_DEV_SECRET_KEY = _INSECURE_PREFIX + "local-development-only-never-in-production-0123456789"


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if DEBUG:
        return key or _DEV_SECRET_KEY
    if not key:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if len(key) < 50 or len(set(key)) < 5 or key.startswith(_INSECURE_PREFIX):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The school's own domain: it makes calendar event UIDs unique across a network of schools.
SITE_DOMAIN = env.str("SITE_DOMAIN", default=(ALLOWED_HOSTS or ["metaltech.local"])[0])
# Printed in every document's QR code: where the public verification page lives.
SITE_URL = env.str(
    "SITE_URL", default="http://127.0.0.1:8000" if DEBUG else f"https://{SITE_DOMAIN}"
)
# The identity every document carries (fictional by default: set the real one in production).
SCHOOL_IDENTITY = {
    "name": env.str("SCHOOL_NAME", default="MétalTech — école de production (fictive)"),
    "address": env.str("SCHOOL_ADDRESS", default="12 rue des Forges, 52800 Nogent"),
    "contact": env.str("SCHOOL_CONTACT", default="03 25 00 00 00 · contact@metaltech.test"),
    # A fictional SIRET (Luhn-valid) and IBAN, like the name: a real school sets its own.
    "siret": env.str("SCHOOL_SIRET", default="90000000000019"),
    # Blank: the French intra-community number derived from the SIREN (FR + key + SIREN).
    "vat_number": env.str("SCHOOL_VAT_NUMBER", default=""),
    "iban": env.str("SCHOOL_IBAN", default="FR7630006000011234567890189"),
    "bic": env.str("SCHOOL_BIC", default="AGRIFRPP"),
    "head": env.str("SCHOOL_HEAD", default="Hélène Garnier, directrice"),
}

# The workshop's sales (billing): what every invoice states, frozen on it when issued.
BILLING = {
    "payment_days": env.int("BILLING_PAYMENT_DAYS", default=30),
    # Late-payment penalties, a year (Code de commerce L441-10: at least three times the
    # legal rate; the usual clause is the ECB's rate plus 10 points).
    "late_penalty_rate": env.str("BILLING_LATE_PENALTY_RATE", default="12.15"),
    # The fixed indemnity for recovery costs owed by a late professional buyer (D441-5).
    "recovery_indemnity": "40.00",
    # A reminder is e-mailed this many days after the due date of an unpaid invoice.
    "reminder_days": env.int("BILLING_REMINDER_DAYS", default=15),
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "django_htmx",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "school",
    "companies",
    "courses",
    "internships",
    "billing",
    "assessments",
]
# N+1 detection (django-zeal, a dev dependency): the test suite turns it on, and a
# request that loads a relation row by row (the same query from the same line, again
# and again) then fails with NPlusOneError. Its middleware is added below.
NPLUSONE_CHECKS = _flag("NPLUSONE_CHECKS", default=False)
if NPLUSONE_CHECKS:
    INSTALLED_APPS.append("zeal")
    ZEAL_RAISE = True
    # Three loads from one line: two may be two fields of a form, each checking its choice.
    ZEAL_NPLUSONE_THRESHOLD = 3

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "school.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff and trainers reach nothing but the second-factor pages before their code.
    "school.two_factor.SecondFactorMiddleware",
    # Personal pages, PDFs, exports and feeds stay out of every cache (browser, proxy).
    "school.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]
if NPLUSONE_CHECKS:
    MIDDLEWARE.insert(0, "zeal.middleware.zeal_middleware")

ROOT_URLCONF = "school.urls"
WSGI_APPLICATION = "school.wsgi.application"
ASGI_APPLICATION = "school.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (test server, worker) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_REDIS_URL = env.str("REDIS_URL", default="")
if _REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="metaltech"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_tasks_backend = env.str("TASKS_BACKEND", default="immediate")
if _tasks_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {_tasks_backend!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_tasks_backend]}}
# Learners per background task of a document batch, rendered as one WeasyPrint bundle:
# large enough to spread WeasyPrint's fixed costs, small enough that every worker gets
# a share of a class and a killed worker leaves little to redo.
DOCUMENT_BATCH_SIZE = env.int("DOCUMENT_BATCH_SIZE", default=20)
# How long an e-mailed signing link stays valid, and the largest scanned signed copy.
SIGNING_LINK_DAYS = env.int("SIGNING_LINK_DAYS", default=30)
SCAN_MAX_BYTES = env.int("SCAN_MAX_BYTES", default=10 * 1024 * 1024)
DRAWING_MAX_BYTES = env.int("DRAWING_MAX_BYTES", default=20 * 1024 * 1024)
# The tutor's evaluation link: how long it lasts, and the reminders (days after sending).
EVALUATION_LINK_DAYS = env.int("EVALUATION_LINK_DAYS", default=30)
EVALUATION_REMINDER_DAYS = (3, 10)

# Outside development, mail must go somewhere on purpose: no silent console default.
if not DEBUG and not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL must be set when DEBUG is off (e.g. smtp+tls://user:pass@host:587)."
    )
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="MétalTech <ne-pas-repondre@metaltech.test>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Users and authentication ---------------------------------------------
AUTH_USER_MODEL = "school.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Five wrong passwords for one account from one address lock that pair for 15 minutes;
# the lockout state lives in the database, so every web node sees it.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Both the login form and the token endpoint hand Django's authenticate() a "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "school.auth.lockout"
AXES_USERNAME_CALLABLE = "school.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# A signed-in browser session lasts one school day at most, then asks again.
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=10) * 3600
# An API token lasts this long from its creation; POST /api/v1/auth/logout/ ends it sooner.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
# The TOTP apps show "MétalTech" beside the account.
OTP_TOTP_ISSUER = "MétalTech"
# Rate limits per client (account if signed in, else address), counted in the cache:
# shared by every web node through Redis (see school/throttle.py).
RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="30/hour"),
    "token": env.str("RATE_LIMIT_TOKEN", default="30/hour"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/hour"),
    "verify_upload": env.str("RATE_LIMIT_VERIFY_UPLOAD", default="30/hour"),
    "batches": env.str("RATE_LIMIT_BATCHES", default="30/hour"),
    "exports": env.str("RATE_LIMIT_EXPORTS", default="20/hour"),
}

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Collected files may be absent in tests; serve from the finders then.
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security ---------------------------------------------------------------
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
# Trust X-Forwarded-Proto only behind a proxy that sets it; otherwise a client could.
if AXES_IPWARE_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "school.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "school.permissions.RolePermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["school.throttle.ScopedRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "school.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "school.filters.ScopedFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "school.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MétalTech API",
    "DESCRIPTION": (
        "API de MétalTech : apprenants, promotions, entreprises partenaires, "
        "emplois du temps, stages et documents. Authentification : "
        "`POST /api/v1/auth/token/` puis en-tête `Authorization: Token …`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "school.openapi.add_error_responses",
        "school.openapi.add_examples",
    ],
    # Several models share field names ("kind", "status"): name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "EnrolmentStatusEnum": "school.models.EnrolmentStatus",
        "CourseKindEnum": "courses.models.CourseKind",
        "RoomKindEnum": "courses.models.RoomKind",
        "MachineKindEnum": "courses.models.MachineKind",
        "ClosureKindEnum": "courses.models.ClosureKind",
        "SessionStatusEnum": "courses.models.SessionStatus",
        "AttendanceStatusEnum": "courses.models.AttendanceStatus",
        "OrderStatusEnum": "courses.models.OrderStatus",
        "CompetencyLevelEnum": "courses.models.CompetencyLevel",
        "OfferStatusEnum": "internships.models.OfferStatus",
        "ApplicationStatusEnum": "internships.models.ApplicationStatus",
        "PlacementStatusEnum": "internships.models.PlacementStatus",
        "VersionStatusEnum": "internships.models.VersionStatus",
        "LineKindEnum": "billing.models.LineKind",
        "InvoiceKindEnum": "billing.models.InvoiceKind",
        "QuoteStatusEnum": "billing.models.QuoteStatus",
        "UnitEnum": "billing.models.Unit",
        "PaymentMethodEnum": "billing.models.PaymentMethod",
        "ExcuseStatusEnum": "courses.models.ExcuseStatus",
        "ResultStatusEnum": "assessments.models.ResultStatus",
        "SituationKindEnum": "assessments.models.SituationKind",
        "ScaleEnum": "assessments.models.Scale",
    },
}

# --- Personal data retention (RGPD) ---------------------------------------------
# Owned by the retention policy (school/privacy.py, manage.py apply_retention).
# How long each category of personal data is kept, in days; ``manage.py apply_retention``
# (daily cron) applies them. docs/privacy.md gives the reason behind each figure.
RETENTION_DAYS = {
    # A learner is anonymised this long after their last enrolment ended (withdrawn or
    # graduated, with its end date): time to ask for a copy of an attestation, and for
    # the funders' audits of the school years gone by.
    "learner": env.int("RETENTION_LEARNER_DAYS", default=3 * 365),
    # What proves an electronic signature (IP address, browser) lasts as long as a claim
    # on the agreement may be brought: five years after the placement's end (Code civil,
    # art. 2224). A learner is not anonymised while one of their agreements is that recent.
    "signature_evidence": env.int("RETENTION_SIGNATURE_EVIDENCE_DAYS", default=5 * 365),
    # The hash of an e-mailed signing or evaluation link, after the link expired: long
    # enough to answer « ce lien a expiré » to a late click, then nothing is left of it.
    "expired_links": env.int("RETENTION_EXPIRED_LINK_DAYS", default=30),
    # Login attempts and access logs (django-axes: e-mail typed, IP address, browser):
    # six months, the low end of the CNIL's recommendation for access logs.
    "access_logs": env.int("RETENTION_ACCESS_LOG_DAYS", default=180),
    # Finished background tasks: their arguments hold e-mail addresses and messages.
    "task_results": env.int("RETENTION_TASK_RESULT_DAYS", default=30),
}
if any(days < 0 for days in RETENTION_DAYS.values()):
    raise ImproperlyConfigured("RETENTION_*_DAYS must be zero or more days.")

# --- Logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates every rendering step at INFO: keep its warnings only.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}
