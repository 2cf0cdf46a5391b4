"""Settings for USM Portal, read from the environment through django-environ.

Every variable has a default that runs on a fresh machine with no setup: SQLite, a
filesystem broker under ``var/`` and development keys generated on first start.
With ``DEBUG`` off the secrets have no default and must come from the environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

from usm_portal.devkeys import development_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.smart_cast = False
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
VAR_DIR = Path(env.str("USM_VAR_DIR", default=str(BASE_DIR / "var")))

if DEBUG:
    _dev = development_keys(VAR_DIR)
    SECRET_KEY = env.str("SECRET_KEY", default=_dev["secret_key"])
    TOKEN_ENCRYPTION_KEYS = env.list(
        "TOKEN_ENCRYPTION_KEYS", default=[_dev["token_key"]]
    )
else:
    SECRET_KEY = env.str("SECRET_KEY")
    TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "usm_portal.apps.UsmPortalConfig",
    "sensors",
    "activity",
    "alienapps",
    "alienapps.sophos",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "usm_portal.timezones.ViewerTimeZoneMiddleware",
]

ROOT_URLCONF = "usm_portal.urls"
WSGI_APPLICATION = "usm_portal.wsgi.application"

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
                "usm_portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'usm_portal.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the web process, the worker and beat
    # write to one SQLite file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so worker processes started by the tests share it; one
    # per test process, so parallel runs do not share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-database-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "alienapps:catalogue"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins in a row before an account is locked, and for how long.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=30)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
# Shown to a viewer whose browser has not reported its own time zone yet.
DISPLAY_TIME_ZONE = env.str("DISPLAY_TIME_ZONE", default="UTC")

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security headers and cookies. The defaults are the safe ones whenever DEBUG is off.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
# Pages load only the portal's own static files: no inline script, no other origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# Celery. The default broker keeps its messages in files under var/, so a single
# machine runs the worker and beat with no broker server.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in (_broker_dir, VAR_DIR / "broker-control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "portal"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat looks for due log collection jobs. Each dispatch expires before
# the next one, so a stopped worker never comes back to a pile of them.
COLLECTION_DISPATCH_SECONDS = env.int("COLLECTION_DISPATCH_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-collection-jobs": {
        "task": "alienapps.tasks.dispatch_due_jobs",
        "schedule": timedelta(seconds=COLLECTION_DISPATCH_SECONDS),
        "options": {"expires": COLLECTION_DISPATCH_SECONDS},
    },
    "watch-for-silent-connections": {
        "task": "alienapps.tasks.raise_no_data_events",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 300},
    },
}

# Log collection.
COLLECTION_INTERVAL_MINUTES = env.int("COLLECTION_INTERVAL_MINUTES", default=20)
# A claimed run renews its claim after every page; a dead holder's claim lapses
# after this many seconds, well inside the collection interval.
COLLECTION_CLAIM_SECONDS = env.int("COLLECTION_CLAIM_SECONDS", default=180)
COLLECTION_RUN_TIME_LIMIT = env.int("COLLECTION_RUN_TIME_LIMIT", default=900)
COLLECTION_MAX_PAGES = env.int("COLLECTION_MAX_PAGES", default=200)
# How long Save and Test connection wait for the sensor's worker to report.
CONNECTION_CHECK_WAIT_SECONDS = env.float("CONNECTION_CHECK_WAIT_SECONDS", default=20)

# Sophos Central client.
SOPHOS_EXTRA_API_HOSTS = env.list("SOPHOS_EXTRA_API_HOSTS", default=[])
SOPHOS_CA_BUNDLE = env.str("SOPHOS_CA_BUNDLE", default="") or None
SOPHOS_CONNECT_TIMEOUT = env.float("SOPHOS_CONNECT_TIMEOUT", default=10)
SOPHOS_READ_TIMEOUT = env.float("SOPHOS_READ_TIMEOUT", default=60)
SOPHOS_REQUEST_DEADLINE = env.float("SOPHOS_REQUEST_DEADLINE", default=120)
SOPHOS_MAX_ATTEMPTS = env.int("SOPHOS_MAX_ATTEMPTS", default=4)
SOPHOS_BACKOFF_SECONDS = env.float("SOPHOS_BACKOFF_SECONDS", default=1)
SOPHOS_BACKOFF_CAP_SECONDS = env.float("SOPHOS_BACKOFF_CAP_SECONDS", default=60)
SOPHOS_RETRY_AFTER_CAP_SECONDS = env.float(
    "SOPHOS_RETRY_AFTER_CAP_SECONDS", default=120
)
SOPHOS_INITIAL_LOOKBACK_HOURS = env.float("SOPHOS_INITIAL_LOOKBACK_HOURS", default=24)
SOPHOS_PAGE_LIMIT = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# The AlienApp catalogue: one class per app package.
ALIENAPPS = ["alienapps.sophos.app.SophosCentral"]
