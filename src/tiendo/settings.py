"""Settings for Tiến Độ: one module, configured from environment variables.

With nothing set, the system runs as in production — DEBUG off, and it refuses to start
without a SECRET_KEY — on an SQLite database under ``var/``. ``make demo`` turns DEBUG on and
sets a demonstration key. Every variable is listed in the README's Configuration table.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from tiendo.env import database_from_url, env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("TIENDO_VAR_DIR", str(BASE_DIR / "var")))

# Production is the default: debug pages (settings, tracebacks, SQL) only when asked for.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (e.g. SECRET_KEY=$(python3 -c "
            "'import secrets; print(secrets.token_urlsafe(50))')); see the README's "
            "Configuration table"
        )
    # a developer's machine with DEBUG=true: sessions signed with a throwaway key
    SECRET_KEY = "tiendo-insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's admin site, for system administrators only (tiendo.accounts.adminsite)
    "tiendo.accounts.adminapp.SystemAdminConfig",
    "tiendo.core",
    "tiendo.units",
    "tiendo.accounts",
    "tiendo.organisation",
    "tiendo.programmes",
    "tiendo.data",
    "tiendo.cooperatives",
    "tiendo.households",
    "tiendo.ntm",
    "tiendo.reporting",
    "tiendo.documents",
    "tiendo.analytics",
    "tiendo.demo",
    "tiendo.api",
    # django-ninja: its docs page from its own static files (Swagger UI), not from a CDN
    "ninja",
    "axes",
    # the queue of background tasks (django.tasks), kept in the database
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tiendo.core.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tiendo.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # an account with a one-time password changes it before anything else
    "tiendo.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # last: it turns the lockout raised by AxesBackend into the Vietnamese lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tiendo.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["tiendo.core.templatetags.vn"],
        },
    }
]
WSGI_APPLICATION = "tiendo.wsgi.application"

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{(VAR_DIR / 'tiendo.sqlite3').as_posix()}"), BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# AxesBackend first: it refuses a locked-out username or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
# Django's Vietnamese locale sets no input formats, so a typed 01/07/2025 was read the
# American way (7 January): dates are typed day first here (the admin site's date fields)
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# the project's own CSS and the vendored htmx live in the package, not in an app
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Static files are served by WhiteNoise from STATIC_ROOT (`tiendo collectstatic`, which
# `make serve` runs), compressed (gzip); not the manifest storage, which would make every
# page of the test suite need a collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# A metadata package (tiendo metadata load) larger than this is refused before it is parsed.
PACKAGE_MAX_BYTES = env_int("PACKAGE_MAX_BYTES", 2 * 1024 * 1024)

# Uploaded .xlsx forms and .docx templates, checked before they are parsed
# (tiendo.core.uploads). Django keeps a file above 2,5 MB on disk, not in memory.
UPLOAD_MAX_BYTES = env_int("TIENDO_UPLOAD_MAX_MB", 10) * 1024 * 1024
UPLOAD_MAX_MEMBERS = env_int("TIENDO_UPLOAD_MAX_PARTS", 1000)
UPLOAD_MAX_UNPACKED_BYTES = env_int("TIENDO_UPLOAD_MAX_UNPACKED_MB", 50) * 1024 * 1024
UPLOAD_MAX_XML_PART_BYTES = env_int("TIENDO_UPLOAD_MAX_XML_PART_MB", 5) * 1024 * 1024
UPLOAD_MAX_RATIO = env_int("TIENDO_UPLOAD_MAX_RATIO", 100)
FILE_UPLOAD_HANDLERS = [
    "tiendo.core.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Login throttle (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username,
# or from one address, that username or address is refused — even with the right password —
# for LOGIN_COOLOFF_MINUTES after the last failure.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "tiendo.accounts.security.lockout_response"
# a success does not clear the count: an attacker with an account of their own could
# otherwise reset the count of the address they guess from
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "tiendo.accounts.security.client_ip"
# Behind a reverse proxy every request comes from the proxy's address: PROXY_COUNT says how
# many proxies of our own stand in front, so the client is read from X-Forwarded-For.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_VERBOSE = False
# logins and logouts are in our own audit log (accounts/security.py); axes keeps only the
# failure counts it locks by
AXES_DISABLE_ACCESS_LOG = True

# Served over HTTPS (HTTPS=true, usually behind a proxy that terminates TLS): cookies only over
# TLS, HSTS, redirect plain HTTP, and trust the proxy's X-Forwarded-Proto header.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list binds every subdomain of the agency's domain
        # for months; that is the operator's decision (HSTS_PRELOAD=true), not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 12) * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy: scripts and styles come only from our own static files — no
# inline <script>, no on*= handlers, no style= attributes (htmx's indicator styles are
# switched off in base.html's htmx-config meta tag).
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Email reminders go out only when an SMTP server is configured (SMTP_HOST); notifications
# are always kept in the application.
SMTP_HOST = env_str("SMTP_HOST", "")
if SMTP_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": SMTP_HOST,
                "port": env_int("SMTP_PORT", 25),
                "username": env_str("SMTP_USER", ""),
                "password": env_str("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_TLS", False),
            },
        }
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tiendo@localhost")

# Personal data (Decree 13/2023/NĐ-CP): ID numbers in the household register are encrypted
# at rest with these Fernet keys (comma-separated; the first encrypts, all decrypt, so a key
# is rotated by putting the new one first). Generate one with
# `python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
# Unset with DEBUG on (the demo), a key is derived from SECRET_KEY; unset in production, the
# register refuses to store or show an ID number (tiendo.households.crypto).
PERSONAL_DATA_KEYS = env_list("PERSONAL_DATA_KEYS", [])
# Household import (Excel) caps, checked before any row is parsed: the rows of each of its
# sheets (households, loans, plots); the file itself is capped by UPLOAD_MAX_BYTES. Its worksheets are read as a
# stream, so they may unpack to more than a form; its shared strings (every name of the
# list) are read whole.
HOUSEHOLD_IMPORT_MAX_ROWS = env_int("HOUSEHOLD_IMPORT_MAX_ROWS", 200_000)
HOUSEHOLD_IMPORT_MAX_UNPACKED_BYTES = env_int("HOUSEHOLD_IMPORT_MAX_UNPACKED_MB", 400) * 1024 * 1024
HOUSEHOLD_IMPORT_MAX_XML_PART_BYTES = env_int("HOUSEHOLD_IMPORT_MAX_XML_PART_MB", 40) * 1024 * 1024

# Background tasks (django.tasks): queued in the database (django-tasks-db) and run by
# `tiendo db_worker`, a process beside the web server (docs/tasks.md).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
