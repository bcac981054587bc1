"""Kapstone's one settings module, read from environment variables (healthchecks style).

Every knob is a ``KAPSTONE_*`` variable with a safe default for local use. ``KAPSTONE_PROFILE=production``
turns on the deploy hardening that ``kapstone check --deploy`` looks for.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(f"KAPSTONE_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"KAPSTONE_{name}")
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"KAPSTONE_{name} must be a yes/no value, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"KAPSTONE_{name}")
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(f"KAPSTONE_{name}")
    return (
        default if raw in (None, "") else [part.strip() for part in raw.split(",") if part.strip()]
    )


PROFILE = env_str("PROFILE", "development")
if PROFILE not in {"development", "production"}:
    raise ValueError("KAPSTONE_PROFILE must be 'development' or 'production'")
PRODUCTION = PROFILE == "production"

# Demo mode lets the synthetic demo clinic skip MFA; a banner on every page says so.
DEMO_MODE = env_bool("DEMO_MODE", False)
if PRODUCTION and DEMO_MODE:
    raise ValueError("Demo mode (no MFA) cannot run with the production profile")

_DEV_SECRET = "kapstone-development-only-not-secret"  # noqa: S105 - refused in production below
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION:
    # Debug on, or a short or patterned secret: refused at start, with how to fix it.
    from kapstone.settings_checks import production_problems

    _problems = production_problems(secret_key=SECRET_KEY, debug=DEBUG)
    if _problems:
        raise ValueError("\n".join(_problems))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "Kapstone")
# bench/web_load.py turns this on to route its floor, a bare view behind the same middleware.
BENCH_FLOOR = env_bool("BENCH_FLOOR", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    # Before django_tasks_db: its `db_worker` command wraps that app's to record a heartbeat.
    "kapstone.ops",
    "django_tasks_db",
    "kapstone.accounts",
    "kapstone.audit",
    "kapstone.patients",
    "kapstone.assessments",
    "kapstone.safety",
    "kapstone.dosing",
    "kapstone.chairside",
    "kapstone.integration",
    "kapstone.ledger",
    "kapstone.outcomes",
    "kapstone.measures",
    "kapstone.intake",
    "kapstone.plans",
    "kapstone.policies",
    "kapstone.research",
    "kapstone.cohorts",
    "kapstone.timetable",
    "kapstone.rems",
    "kapstone.today",
    "kapstone.monitors",
    "kapstone.fhirapi",
    "kapstone.billing",
    "kapstone.coverage",
    "kapstone.companion",
    "kapstone.notify",
    "kapstone.preparation",
    "kapstone.consents",
    "kapstone.journal",
    "kapstone.messaging",
    "kapstone.backups",
    "kapstone.web",
    "kapstone.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "kapstone.web.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kapstone.web.middleware.IdleTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kapstone.web.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Error reports never show a patient's data, and with DEBUG on (`make run`) Django's debug pages go
# only to the developer's own machine (a loopback address); see kapstone.web.debug.
DEFAULT_EXCEPTION_REPORTER = "kapstone.web.debug.LoopbackOnlyExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "kapstone.web.debug.PatientSafeReporterFilter"
MIDDLEWARE = [*MIDDLEWARE, "kapstone.web.debug.LoopbackOnlyDebug404Middleware"]

ROOT_URLCONF = "kapstone.urls"
WSGI_APPLICATION = "kapstone.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kapstone.web.context_processors.kapstone",
            ],
        },
    }
]

# SQLite by default (WAL, IMMEDIATE transactions so writers queue instead of failing mid-way);
# PostgreSQL through KAPSTONE_DATABASE_URL=postgres://...
_default_sqlite = PROJECT_DIR / "var" / "kapstone.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_default_sqlite}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_SQLITE_NAME", "") or None}
# Reads on a PostgreSQL streaming replica (docs/scaling.md): only the read paths that ask for it
# (kapstone.ops.db_router), with read-your-writes; empty means no replica.
READ_REPLICA_URL = env_str("READ_REPLICA_URL", "")
READ_REPLICA_MAX_LAG_SECONDS = env_int("READ_REPLICA_MAX_LAG_SECONDS", 30)
if READ_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError("KAPSTONE_READ_REPLICA_URL needs PostgreSQL as KAPSTONE_DATABASE_URL too")
    DATABASES["replica"] = dj_database_url.parse(READ_REPLICA_URL, conn_max_age=0)
    # A replica that does not answer costs a read at most this long before the primary serves it.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["kapstone.ops.db_router.ReplicaRouter"]
MIDDLEWARE = [*MIDDLEWARE, "kapstone.ops.db_router.ReadYourWritesMiddleware"]
# Production keeps each worker's database connection between requests (checked before reuse)
# instead of connecting for every request: a PostgreSQL connection costs a few milliseconds.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 300 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.StaffUser"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# Lockout: five failures lock the username from that address for 30 minutes.
AXES_FAILURE_LIMIT = env_int("LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# A colleague typing their password or code to witness a ledger entry (kapstone.ledger.witness) has
# their own limit: this many wrong entries within the window stops them witnessing for the window,
# and does not lock their sign-in unless the clinic turns WITNESS_FAILURES_LOCK_SIGN_IN on.
WITNESS_FAILURE_LIMIT = env_int("WITNESS_FAILURES", 5)
WITNESS_LOCKOUT_MINUTES = env_int("WITNESS_LOCKOUT_MINUTES", env_int("LOCKOUT_MINUTES", 30))
WITNESS_FAILURES_LOCK_SIGN_IN = env_bool("WITNESS_FAILURES_LOCK_SIGN_IN", False)

OTP_TOTP_ISSUER = SITE_NAME
OTP_TOTP_THROTTLE_FACTOR = 1

# Idle sessions expire: each request pushes the expiry forward.
SESSION_COOKIE_AGE = env_int("IDLE_MINUTES", 15) * 60
# Off: kapstone.web.middleware.IdleTimeoutMiddleware renews the session on user actions only.
SESSION_SAVE_EVERY_REQUEST = False
# An open chair-side console of a session in progress locks instead of signing out; its polls keep
# the session alive at most until the dosing session's booked end plus this margin
# (docs/features/chair-side.md).
CONSOLE_KEEPALIVE_MARGIN_MINUTES = env_int("CONSOLE_KEEPALIVE_MARGIN_MINUTES", 90)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes may ask gunicorn directly over loopback HTTP; these pages hold no data.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/"]

# E-mail: SMTP in production, the console in development and the demo (reminders print there).
_mail_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS: dict[str, dict[str, object]] = {"default": {"BACKEND": _mail_backend}}
if _mail_backend.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kapstone@localhost")
# A real e-mail service provider through django-anymail: KAPSTONE_EMAIL_BACKEND names its backend
# (anymail.backends.postmark.EmailBackend, ...amazon_ses..., ...mailgun..., ...sendgrid...) and
# every KAPSTONE_ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"] (KAPSTONE_ANYMAIL_POSTMARK_SERVER_TOKEN).
ANYMAIL = {
    key.removeprefix("KAPSTONE_ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("KAPSTONE_ANYMAIL_")
}

# Text messages to patients (kapstone.notify): "twilio" sends through Twilio's REST API; "memory"
# keeps them in the process (development, the demo and tests); "" (production's default) offers
# patients no text messages at all.
SMS_PROVIDER = env_str("SMS_PROVIDER", "" if PRODUCTION else "memory")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# The sender: a Twilio number (+15005550006) or a messaging service (MG...).
TWILIO_FROM = env_str("TWILIO_FROM", "")
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
if SMS_PROVIDER not in {"", "memory", "twilio"}:
    raise ValueError("KAPSTONE_SMS_PROVIDER must be empty, 'memory' or 'twilio'")
if SMS_PROVIDER == "memory" and PRODUCTION:
    raise ValueError(
        "KAPSTONE_SMS_PROVIDER=memory sends nothing: choose 'twilio' or leave it empty"
    )
if SMS_PROVIDER == "twilio" and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM):
    raise ValueError(
        "KAPSTONE_SMS_PROVIDER=twilio needs KAPSTONE_TWILIO_ACCOUNT_SID, "
        "KAPSTONE_TWILIO_AUTH_TOKEN and KAPSTONE_TWILIO_FROM"
    )
# A failed send is retried with growing waits and given up after this many attempts.
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)
if NOTIFY_MAX_ATTEMPTS < 1:
    raise ValueError("KAPSTONE_NOTIFY_MAX_ATTEMPTS must be at least 1")

# Links in e-mails (alerts, questionnaire reminders) point here.
KAPSTONE_BASE_URL = env_str("BASE_URL", "http://127.0.0.1:8000").rstrip("/")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# "computed": what is a pure function of its inputs and slow to compute (the Outcomes tab's charts),
# kept under a hash of those inputs, so nothing in it can go stale. Files on the app server's disk:
# shared by every gunicorn worker, no service to run (an in-memory cache would be per worker, a
# database cache would cost a query a read and a table to create). The default cache stays per
# process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "computed": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env_str("CACHE_DIR", str(PROJECT_DIR / "var" / "cache")),
        "TIMEOUT": 30 * 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    },
}

# Clinic policy: minutes an unacknowledged suicide-risk alert waits before the medical director is
# told (kapstone.clinical.suicide_risk; each alert records the value it was raised under).
ALERT_ESCALATION_MINUTES = env_int("ALERT_ESCALATION_MINUTES", 60)
if ALERT_ESCALATION_MINUTES < 1:
    raise ValueError("KAPSTONE_ALERT_ESCALATION_MINUTES must be at least 1")

# De-identified research exports: where their zips are written, and how long one waits for its
# single download before its file is removed.
RESEARCH_EXPORT_DIR = Path(env_str("RESEARCH_EXPORT_DIR", str(PROJECT_DIR / "var" / "exports")))
RESEARCH_EXPORT_HOURS = env_int("RESEARCH_EXPORT_HOURS", 72)
if RESEARCH_EXPORT_HOURS < 1:
    raise ValueError("KAPSTONE_RESEARCH_EXPORT_HOURS must be at least 1")

# FHIR Bulk Data $export: where each job's NDJSON files are written (outside the research folder,
# so backups do not copy them), and how long a finished job's files wait before they are removed.
FHIR_EXPORT_DIR = Path(env_str("FHIR_EXPORT_DIR", str(PROJECT_DIR / "var" / "fhir-exports")))
FHIR_EXPORT_HOURS = env_int("FHIR_EXPORT_HOURS", 24)
if FHIR_EXPORT_HOURS < 1:
    raise ValueError("KAPSTONE_FHIR_EXPORT_HOURS must be at least 1")

# Where `kapstone backup` writes its folders unless given --output-dir (docs/backup.md).
KAPSTONE_BACKUP_DIR = Path(env_str("BACKUP_DIR", str(PROJECT_DIR / "var" / "backups")))

# Seconds the retreat scheduler may search before it proposes its best schedule (the solve runs
# in the task worker; longer can only improve the lower-priority goals on a busy week).
SCHEDULE_TIME_LIMIT_SECONDS = env_int("SCHEDULE_TIME_LIMIT_SECONDS", 20)
if SCHEDULE_TIME_LIMIT_SECONDS < 1:
    raise ValueError("KAPSTONE_SCHEDULE_TIME_LIMIT_SECONDS must be at least 1")

# The front desk. MRNs the clinic assigns: prefix + a zero-padded sequence number (KAP-100001);
# a typed MRN is still accepted. Phone numbers without a country code are read in this region.
MRN_PREFIX = env_str("MRN_PREFIX", "KAP-")
MRN_DIGITS = env_int("MRN_DIGITS", 6)
MRN_FIRST_NUMBER = env_int("MRN_FIRST_NUMBER", 100001)
if not 1 <= MRN_DIGITS <= 12 or MRN_FIRST_NUMBER < 1:
    raise ValueError("KAPSTONE_MRN_DIGITS must be 1-12 and KAPSTONE_MRN_FIRST_NUMBER at least 1")
PHONE_REGION = env_str("PHONE_REGION", "US").upper()

# A companion session signs the patient out after this long without an action.
COMPANION_IDLE_MINUTES = env_int("COMPANION_IDLE_MINUTES", 15)
# One-time sign-in links last this long; an invitation's link lasts days (the e-mail may wait).
COMPANION_LINK_MINUTES = env_int("COMPANION_LINK_MINUTES", 30)
COMPANION_INVITATION_DAYS = env_int("COMPANION_INVITATION_DAYS", 7)
# Clinic policy: this many failed sign-ins in a row (password or code) lock the account this long.
COMPANION_LOCKOUT_FAILURES = env_int("COMPANION_LOCKOUT_FAILURES", 5)
COMPANION_LOCKOUT_MINUTES = env_int("COMPANION_LOCKOUT_MINUTES", 15)
# Passkeys (WebAuthn) are bound to a domain name: the relying party id and the page origins the
# browser reports. By default the host of KAPSTONE_BASE_URL; an IP address cannot be a relying
# party, so a machine served at 127.0.0.1 uses "localhost" (open the companion at localhost).
_base_host = urlsplit(KAPSTONE_BASE_URL).hostname or "localhost"
_base_is_ip = _base_host.replace(".", "").isdigit() or ":" in _base_host
COMPANION_PASSKEY_RP_ID = env_str(
    "COMPANION_PASSKEY_RP_ID", "localhost" if _base_is_ip else _base_host
)
COMPANION_PASSKEY_ORIGINS = env_list(
    "COMPANION_PASSKEY_ORIGINS",
    [KAPSTONE_BASE_URL]
    + ([KAPSTONE_BASE_URL.replace(_base_host, "localhost", 1)] if _base_is_ip else []),
)
# Crisis resources shown on every patient-facing page, and first when an answer raises a
# suicide-risk flag. The default is the United States' (988 Lifeline, 911): set the clinic's own.
CRISIS_LINE_NAME = env_str("CRISIS_LINE_NAME", "988 Suicide & Crisis Lifeline")
CRISIS_LINE_CALL = env_str("CRISIS_LINE_CALL", "988")
CRISIS_LINE_TEXT = env_str("CRISIS_LINE_TEXT", "988")
EMERGENCY_NUMBER = env_str("EMERGENCY_NUMBER", "911")
CRISIS_EXTRA = env_str("CRISIS_EXTRA", "")
# When the care team reads secure messages, shown on every page of the patient's messages (they are
# not watched around the clock): the clinic's own words.
CLINIC_HOURS = env_str("CLINIC_HOURS", "Monday to Friday, 9 am to 5 pm")

LANGUAGE_CODE = "en-gb"
# Staff pages are in English; the patient companion speaks the patient's chosen language.
LANGUAGES = [("en-gb", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(PROJECT_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise looks for it at start-up
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Readiness (/healthz/ready) wants a task-worker heartbeat at most this old; the worker beats
# every WORKER_HEARTBEAT_SECONDS (kapstone.ops.heartbeat), long tasks included.
WORKER_HEARTBEAT_SECONDS = 15
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env_int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 120)
if WORKER_HEARTBEAT_MAX_AGE_SECONDS < 2 * WORKER_HEARTBEAT_SECONDS:
    raise ValueError(
        f"KAPSTONE_WORKER_HEARTBEAT_MAX_AGE_SECONDS must be at least {2 * WORKER_HEARTBEAT_SECONDS}"
    )

# No patient data in logs: request lines lose their query strings (searches carry names) and
# nothing logs request bodies. Production logs one JSON object per line with the request id.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ValueError("KAPSTONE_LOG_FORMAT must be 'json' or 'text'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_query_strings": {"()": "kapstone.web.logging.StripQueryStrings"},
        "request_id": {"()": "kapstone.web.logging.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "kapstone.web.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["no_query_strings", "request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
