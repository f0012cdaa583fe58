"""Settings shared by every environment. Each value that varies by deployment
is read from the environment through the strict readers in ``environment``."""

from __future__ import annotations

from pathlib import Path

from django.utils.csp import CSP

from config.settings.environment import env, env_bool, env_db, env_int, env_list, env_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# A developer may keep local overrides in .env; the real environment wins.
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

# ---------------------------------------------------------------- applications
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
]
# Ordered from the foundation upwards: a lower app never imports a higher one.
LOCAL_APPS = [
    "core",  # the ground floor: the action log and the shared toolkit
    "people",
    "cascade",
    "competencies",
    "appraisals",
    "incentives",
    "audits",
    "home",  # the top floor: the home page, which reads from every app below it
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",  # before WhiteNoise: static files get it too
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.ActionSourceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "people.context_processors.viewer",
            ],
        },
    },
]

# ---------------------------------------------------------------- database
DATABASES = {"default": env_db("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo (`make run`): runserver's threads and the eager tasks write at once. Without
    # this a second writer fails at once with "database is locked" (a 500). WAL lets readers
    # go on beside the one writer; IMMEDIATE takes the write lock when a transaction begins,
    # so a writer that must wait does so (up to the timeout) instead of failing mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- static files
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------- security
# Django's own CSP: no inline script or style anywhere, every asset from this origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# ---------------------------------------------------------------- email
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Throughline <throughline@localhost>")

# ---------------------------------------------------------------- Celery
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "memory"))
CELERY_RESULT_BACKEND = None  # progress lives on our own records, not in a result backend
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
# A task past the soft limit gets SoftTimeLimitExceeded a minute before the hard kill, so its
# job records "stopped" (and can be resumed) instead of vanishing with the pool child.
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 60, CELERY_TASK_TIME_LIMIT * 9 // 10)
# A pool child killed mid-task (OOM, SIGKILL, hard time limit) must not ack the message it
# held: with acks_late alone Celery acks it and the job is lost half-way. Rejected, it is
# redelivered and the (idempotent) job finishes.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A whole worker that dies keeps its unacked message in Redis until the visibility timeout,
# then any worker gets it again. It must outlast the longest task (or a slow task would be
# handed to a second worker while the first still runs), but not by much (kombu's default
# hour left a killed launch waiting that long): the time limit plus five minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 5 * 60, minimum=1)
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# ---------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with a WWW-Authenticate challenge.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # documents every operation's error answers
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # DRF's three, with a JSON parser that answers over-deep nesting and unpaired surrogates
    # with 400 instead of a RecursionError or a database encoding error (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Throughline API",
    "DESCRIPTION": "Performance management tied to quality improvement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "ENUM_NAME_OVERRIDES": {
        "OrgImportStatusEnum": "people.models.ImportStatus",
        "MethodologyEnum": "cascade.models.Methodology",
        "QIMethodologyEnum": "competencies.models.Methodology",
        "FormVersionStatusEnum": "competencies.models.VersionStatus",
        # Priorities and competencies share these choices, so one name serves both.
        "ActiveRetiredStatusEnum": "competencies.models.CompetencyStatus",
        "FindingStatusEnum": "audits.models.FindingStatus",
        "AuditRunStateEnum": "audits.models.RunState",
    },
}

# ---------------------------------------------------------------- Throughline
# A background job (launch, payout computation, audit, import) that has recorded no progress
# for this long is shown as stalled, with Resume for HR (core.jobs). Every job records
# progress at least once a batch, so this is a few batches' worth of quiet.
THROUGHLINE_JOB_STALL_AFTER = env_int("THROUGHLINE_JOB_STALL_AFTER", 5 * 60, minimum=1)
# Rows checked between two progress writes during an org-chart import.
THROUGHLINE_IMPORT_PROGRESS_EVERY = env_int("THROUGHLINE_IMPORT_PROGRESS_EVERY", 250, minimum=1)
THROUGHLINE_IMPORT_MAX_BYTES = env_int("THROUGHLINE_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Rows an import reads (the header not counted): twice the 10,000-person organisation the benchmark
# imports in about 6 s, so a whole org chart fits with room to grow while one job stays bounded.
THROUGHLINE_IMPORT_MAX_ROWS = env_int("THROUGHLINE_IMPORT_MAX_ROWS", 20_000, minimum=1)
# What an .xlsx may unpack to (all its zip entries together), checked before any XML is parsed: a
# 20,000-row sheet of seven columns unpacks to about 9 MB, so this leaves room for wide sheets.
THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES = env_int(
    "THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES", 100 * 1024 * 1024, minimum=1024 * 1024
)
# Whether /api/schema/ and /api/docs/ answer anyone (development: local.py turns it on) or only
# people signed in: the schema maps every endpoint, filter and field, which outsiders need not see.
THROUGHLINE_API_DOCS_PUBLIC = env_bool("THROUGHLINE_API_DOCS_PUBLIC", False)
# Where links in emails point, e.g. https://throughline.example.org (no trailing slash).
THROUGHLINE_SITE_URL = env.str("THROUGHLINE_SITE_URL", default="")
# An appraisal form whose process share (competencies) is below this many percent
# warns of over-emphasis on end results.
THROUGHLINE_MIN_PROCESS_WEIGHT = env_int("THROUGHLINE_MIN_PROCESS_WEIGHT", 30, minimum=0)
# An incentive plan whose QI-linked components weigh less than this (in %) warns of reward misalignment.
THROUGHLINE_MIN_QI_WEIGHT = env_int("THROUGHLINE_MIN_QI_WEIGHT", 40, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(asctime)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    # One line per finished task drowns the output of seed_demo and make run; failures still show.
    "loggers": {"celery.app.trace": {"level": "WARNING"}},
}
