"""Settings shared by every environment. Each value that varies by deployment
is read from the environment through the strict readers in ``environment``."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.utils.csp import CSP

from config.settings.environment import env, env_bool, env_db, env_int, env_list, env_rate, env_url

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
    "axes",  # sign-in locks (people.sign_in)
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
    "core.middleware.RefuseNullCharactersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.ActionSourceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a sign-in that axes refused into the lockout answer.
    "axes.middleware.AxesMiddleware",
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
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) can land on
# another server connection than the one that declared it: set this to true there (docs/scaling.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DJANGO_DISABLE_SERVER_SIDE_CURSORS", False)
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

# ---------------------------------------------------------------- cache
# The API's rate-limit counts (REST_FRAMEWORK throttles). One process's memory is enough for
# `make run` and the tests; production shares Redis between its workers (production.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throughline"}}

# ---------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked, on every
    # path that calls authenticate() with the request (sign-in page, admin, API token).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ---------------------------------------------------------------- sign-in locks (django-axes)
# How people.sign_in throttles guessing on the sign-in page, the admin's and the API token
# endpoint. Five wrong passwords lock the account (from anywhere): a person who mistypes gets
# four retries, a guesser five tries per cool-off, about 480 a day (NIST SP 800-63B allows up
# to 100 in a row). Twenty across accounts lock the address: one machine spraying a common
# password; a hospital behind one NAT address rarely has twenty unresolved mistypes within the
# cool-off, since a successful sign-in clears that person's own failures. A lock lifts 15
# minutes after the last failure that caused it, or when HR unlocks it (/people/sign-in-locks/).
AXES_FAILURE_LIMIT = env_int("THROUGHLINE_SIGN_IN_ACCOUNT_LIMIT", 5, minimum=1)
THROUGHLINE_SIGN_IN_ADDRESS_LIMIT = env_int("THROUGHLINE_SIGN_IN_ADDRESS_LIMIT", 20, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("THROUGHLINE_SIGN_IN_COOL_OFF_MINUTES", 15, minimum=1))
# Both parameters are counted separately (never as a pair), each against its own limit.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "people.sign_in.SignInLockHandler"
AXES_LOCKOUT_CALLABLE = "people.sign_in.lockout_response"  # the lockout page, or JSON from the API
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "people.sign_in.client_address"
AXES_USERNAME_CALLABLE = "people.sign_in.client_username"
# A refused attempt during a lock does not extend it: the time the page gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in clears that account's own failures (and only those: people.sign_in).
AXES_RESET_ON_SUCCESS = True
# No table of every successful sign-in: only failures are needed, and they expire.
AXES_DISABLE_ACCESS_LOG = True
# Reverse proxies in front of Throughline that append to X-Forwarded-For (0: clients connect
# directly). Behind a proxy this must say so, or every sign-in seems to come from the proxy
# and the address limit locks everyone at once.
THROUGHLINE_TRUSTED_PROXIES = env_int("THROUGHLINE_TRUSTED_PROXIES", 0, minimum=0)

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
    # Rate limits per signed-in user and per anonymous address, and the token endpoint's own
    # ("sign-in", per address) under the sign-in locks. Counts live in the default cache:
    # Redis in production, so that every gunicorn worker shares them.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonRateThrottle", "core.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Integrations syncing data make the most calls: ten a second, sustained, is ample.
        "user": env_rate("THROUGHLINE_API_USER_RATE", "600/min"),
        # Anonymous callers, wherever a view lets them in (most answer 401 before any rate).
        "anon": env_rate("THROUGHLINE_API_ANON_RATE", "60/min"),
        "sign-in": env_rate("THROUGHLINE_API_SIGN_IN_RATE", "20/min"),
    },
    # The client's address for the anonymous and sign-in rates (as for the sign-in locks).
    "NUM_PROXIES": THROUGHLINE_TRUSTED_PROXIES,
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
    # Request bodies as components of their own (no read-only fields, no unknown ones: core.schema).
    "COMPONENT_SPLIT_REQUEST": True,
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
# 20,000-row sheet of seven columns unpacks to about 9 MB, so this leaves room for sheets five
# times as wide, while bounding what a worker's openpyxl parses (it reads shared strings whole).
THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES = env_int(
    "THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES", 50 * 1024 * 1024, minimum=1024 * 1024
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
    # axes says INFO at every sign-in; its WARNINGs (each wrong password, each lock) stay, for security review.
    # Django's own "django" logger has a console handler under DEBUG and also passes its records to
    # the root's: each warning (a 403, a 404) would print twice in `make run`. The root's alone prints it.
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django": {"level": "INFO", "handlers": [], "propagate": True},
    },
}
