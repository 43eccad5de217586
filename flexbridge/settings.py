"""Settings, read from the environment through one typed reader (django-environ).

Every variable has a safe default for the embedded first run (SQLite, no broker, DEBUG on).
Production sets them explicitly; ``README.md`` lists them with their defaults.
"""

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    environ.Env.read_env(str(_env_file))

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="embedded-insecure-key-change-me-" + "x" * 32 if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key for the fields that hold secrets of program links (client secrets, API keys).
# A urlsafe base64 Fernet key; required when DEBUG is off, derived from SECRET_KEY otherwise.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is required when DEBUG is off")
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(("field-encryption:" + SECRET_KEY).encode()).digest()
    ).decode()

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
    "simple_history",
    "axes",
    "flexbridge",
    "companies",
    "jobs",
    "integrations",
    "employees",
    "projects",
    "payslips",
    "ledger",
    "paxml",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "flexbridge.middleware.ServiceRefusalMiddleware",
    "flexbridge.middleware.NotFoundPageMiddleware",
    "flexbridge.middleware.UploadTooLargePageMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flexbridge.urls"

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

WSGI_APPLICATION = "flexbridge.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded SQLite serves the web server, the in-process jobs and the sandboxes at
    # once: WAL lets readers go on beside a writer, the busy timeout makes a second writer
    # wait (up to SQLITE_BUSY_TIMEOUT seconds) instead of failing with "database is
    # locked", and IMMEDIATE transactions take the write lock at BEGIN, so a transaction
    # that read first cannot fail on upgrading its lock.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", env.int("SQLITE_BUSY_TIMEOUT", 20))
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command",
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        f"PRAGMA busy_timeout={1000 * env.int('SQLITE_BUSY_TIMEOUT', 20)};",
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a login while its username and address are locked out (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Grants a user the permissions of their role in each company (object-aware).
    "companies.backends.CompanyRoleBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for AXES_COOLOFF_HOURS; the lockout page says
# so (429). A success resets the count. An administrator lifts a lockout by deleting the
# "access attempt" in the admin (or `manage.py axes_reset_username NAME`).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "flexbridge.views.login_locked_out"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="sv")
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The embedded first run (`run_embedded`, behind `make run`) sets EMBEDDED_WORKER for the
# web server, the worker and beat it starts: without Redis they pass tasks through files
# in EMBEDDED_BROKER_DIR (kombu's filesystem transport), see docs/architecture.md.
EMBEDDED_WORKER = env.bool("EMBEDDED_WORKER", default=False)
EMBEDDED_BROKER_DIR = Path(env.str("EMBEDDED_BROKER_DIR", default=str(BASE_DIR / "var" / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
elif EMBEDDED_WORKER:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(EMBEDDED_BROKER_DIR / "queue"),
        "data_folder_out": str(EMBEDDED_BROKER_DIR / "queue"),
        "control_folder": str(EMBEDDED_BROKER_DIR / "control"),
        "polling_interval": 0.5,
    }
    # Cancelling goes through the job's row; no broadcast commands over files.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
else:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker (tests, management commands) tasks run in-process, right when they are
# enqueued (after commit). (CELERY_TASK_ALWAYS_EAGER=false without a broker: jobs stay queued
# in memory; the fuzz gate uses that to exercise the API without running the jobs it starts.)
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL and not EMBEDDED_WORKER
)
CELERY_TASK_EAGER_PROPAGATES = False
# A worker killed mid-job gives the task back to the queue; job services resume by item.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # The payroll sync: retries of the outbox, and the home accounting in force that day
    # (payroll has no dating, so it is sent every night).
    "payroll-sync-retry": {"task": "integrations.payroll_sync_retry", "schedule": 300.0},
    "payroll-accounting-nightly": {
        "task": "integrations.payroll_accounting_nightly",
        "schedule": crontab(hour=1, minute=30),
    },
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an unauthenticated call answer 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "flexbridge.api.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": [
        "companies.scoping.ScopedFilterBackend",
        "flexbridge.filters.BoundedSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "flexbridge.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_USER", default="6000/min")},
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# ``?search=``: longest input and most words (see flexbridge.filters).
API_SEARCH_MAX_CHARS = env.int("API_SEARCH_MAX_CHARS", default=200)
API_SEARCH_MAX_TERMS = env.int("API_SEARCH_MAX_TERMS", default=10)
SPECTACULAR_SETTINGS = {
    "TITLE": "flexbridge API",
    "DESCRIPTION": "HR register and payroll integration hub.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {"JobStatusEnum": "jobs.models.Job.Status"},
}

# --- Security (effective when DEBUG is off) -------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Uploads and jobs ---------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Largest upload (all files of one request together), enforced while the body streams in
# (flexbridge.uploads): over it the request is refused (413) and nothing is stored. Each
# kind of file has its own, smaller limit on top (PAXML_MAX_FILE_BYTES,
# PROJECT_ATTACHMENT_MAX_BYTES).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=512 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "flexbridge.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# How many log lines a job keeps; past this only the count grows.
JOB_LOG_MAX_LINES = env.int("JOB_LOG_MAX_LINES", default=100_000)
# Fanned-out jobs (jobs.runner.job_chunks_drain): a chunk's worker writes a
# heartbeat this often; a chunk without one for JOB_CHUNK_STALE_SECONDS (its worker died)
# is taken over by another worker; a worker waiting for the last chunks looks this often.
JOB_CHUNK_HEARTBEAT_SECONDS = env.float("JOB_CHUNK_HEARTBEAT_SECONDS", default=2.0)
JOB_CHUNK_STALE_SECONDS = env.float("JOB_CHUNK_STALE_SECONDS", default=20.0)
JOB_CHUNK_POLL_SECONDS = env.float("JOB_CHUNK_POLL_SECONDS", default=0.5)
# PAXml: largest file read (upload or command line), and how many problems a job lists.
PAXML_MAX_FILE_BYTES = env.int("PAXML_MAX_FILE_BYTES", default=512 * 1024 * 1024)
PAXML_MAX_PROBLEMS = env.int("PAXML_MAX_PROBLEMS", default=500)
# Project attachments: allowed file types (extensions) and the size limit per file.
PROJECT_ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "PROJECT_ATTACHMENT_ALLOWED_EXTENSIONS",
    default=["pdf", "png", "jpg", "jpeg", "gif", "txt", "csv", "docx", "xlsx", "pptx", "odt"],
)
PROJECT_ATTACHMENT_MAX_BYTES = env.int("PROJECT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# Clients of the outside systems (integrations.clients.config reads these, nothing else):
# seconds to wait for an answer, attempts per request, backoff base and cap of the retries.
PAYROLL_CLIENT_TIMEOUT = env.float("PAYROLL_CLIENT_TIMEOUT", default=30.0)
PAYROLL_CLIENT_MAX_ATTEMPTS = env.int("PAYROLL_CLIENT_MAX_ATTEMPTS", default=5)
PAYROLL_CLIENT_BACKOFF = env.float("PAYROLL_CLIENT_BACKOFF", default=0.5)
PAYROLL_CLIENT_BACKOFF_CAP = env.float("PAYROLL_CLIENT_BACKOFF_CAP", default=30.0)
KIVRA_TIMEOUT = env.float("KIVRA_TIMEOUT", default=30.0)
KIVRA_RETRY_ATTEMPTS = env.int("KIVRA_RETRY_ATTEMPTS", default=6)
KIVRA_RETRY_BACKOFF = env.float("KIVRA_RETRY_BACKOFF", default=0.5)
KIVRA_RETRY_BACKOFF_CAP = env.float("KIVRA_RETRY_BACKOFF_CAP", default=30.0)
VISMA_CLIENT_TIMEOUT = env.float("VISMA_CLIENT_TIMEOUT", default=30.0)
VISMA_CLIENT_MAX_ATTEMPTS = env.int("VISMA_CLIENT_MAX_ATTEMPTS", default=5)
VISMA_CLIENT_BACKOFF = env.float("VISMA_CLIENT_BACKOFF", default=0.5)
VISMA_CLIENT_BACKOFF_CAP = env.float("VISMA_CLIENT_BACKOFF_CAP", default=30.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pin": {"()": "flexbridge.logging.MaskPersonalIdentityNumbers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_pin"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Access logs (runserver's and gunicorn's) carry query strings such as ?search=:
        # through the masking handler, never their own unmasked one.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Program links may reach loopback/private/link-local addresses only when marked as sandbox
# links; this lifts the rule for every link (integrations/clients/outbound.py). Off in production.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = env.bool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", default=False)

# Sandboxes of outside systems that `make run` starts beside the app: {name: port}.
EMBEDDED_SANDBOXES = {"kivra": 8701, "visma": 8702, "payroll": 8703}

# Kivra dispatch (payslips): parallel sends per worker task, payslips per chunk, the most
# worker tasks (Celery) on one dispatch, and Kivra's limit per recipient (shared by every
# worker through Redis when REDIS_URL is set).
KIVRA_DISPATCH_CONCURRENCY = env.int("KIVRA_DISPATCH_CONCURRENCY", default=16)
KIVRA_DISPATCH_CHUNK_SIZE = env.int("KIVRA_DISPATCH_CHUNK_SIZE", default=2000)
KIVRA_DISPATCH_PARALLEL = env.int("KIVRA_DISPATCH_PARALLEL", default=4)
# Payslip PDF rendering ("Render payslip PDFs" and inside the dispatch): the same for it.
PAYSLIP_RENDER_CHUNK_SIZE = env.int("PAYSLIP_RENDER_CHUNK_SIZE", default=500)
PAYSLIP_RENDER_PARALLEL = env.int("PAYSLIP_RENDER_PARALLEL", default=4)
KIVRA_RECIPIENT_LIMIT = 50  # contents per recipient ...
KIVRA_RECIPIENT_WINDOW = 60.0  # ... per this many seconds
