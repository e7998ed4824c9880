"""Settings shared by every environment. The environment is read here, once, via django-environ.

Embedded default (no environment at all): SQLite in the project folder and Celery in eager mode,
good for a first look. Real deployments and CI set DATABASE_URL (PostgreSQL) and
CELERY_BROKER_URL (Redis).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: hashed, expiring, revocable (resellers/tokens.py)
    "axes",  # failed-login lockout (resellers/logins.py)
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally, not from a CDN
    "resellers",
    "billing",
    "billing.taxes",
    "orders",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "resellers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username + IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force (django-axes): AXES_FAILURE_LIMIT failed logins from one username + IP address lock
# that pair out for AXES_COOLOFF_MINUTES, on the panel's /login/, the admin and
# POST /api/v1/auth/token/. A successful login clears the count. Each failure, lockout and
# successful login is recorded (axes' AccessAttempt, AccessFailureLog, AccessLog in the admin).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "resellers.logins.lockout_response"
# The client's address for the lockout (resellers.logins.client_ip): REMOTE_ADDR, or behind
# TRUSTED_PROXY_COUNT reverse proxies (production: 1) the address the first of them saw, read
# from the right of X-Forwarded-For, so a client cannot spoof it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "resellers.logins.client_ip"
# The admin's address: ADMIN_URL (production requires it; the demo keeps admin/).
ADMIN_URL = env("ADMIN_URL", default="admin/")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# One date format in every panel, table, message and PDF (Django's `date` syntax): "5 Dec 2026",
# and "5 Dec 2026 13:05" with a time. `{{ value|date }}` and django-tables2's DateColumn and
# DateTimeColumn use them; dashboard.presentation.day/moment do in Python. A locale's own formats
# would win over these, so config/formats hands them back to English (FORMAT_MODULE_PATH).
# Form inputs and CSV exports keep ISO dates (YYYY-MM-DD).
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Email: console in the demo, SMTP (or anything EMAIL_URL names) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="billing@localhost")
# Where emails link to (the order status page): the panel's public address.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# The card gateway (billing.gateway): the built-in test gateway unless a real one is plugged in.
BILLING_PAYMENT_GATEWAY = env("BILLING_PAYMENT_GATEWAY", default="billing.gateway.TestGateway")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# External tax engines (billing.taxes): each is off ("not installed") until its URL is set.
# Credentials of other engine accounts (TaxEngineAccount.settings_key) come as one JSON object,
# e.g. TAX_ENGINE_CREDENTIALS='{"reseller7": {"account_id": "...", "license_key": "..."}}'.
TAX_ENGINE_TIMEOUT_SECONDS = env.float("TAX_ENGINE_TIMEOUT_SECONDS", default=10.0)
TAX_ENGINES = {}
if env("TAX_AVATAX_URL", default=""):
    TAX_ENGINES["avatax"] = {
        "url": env("TAX_AVATAX_URL"),
        "account_id": env("TAX_AVATAX_ACCOUNT_ID", default=""),
        "license_key": env("TAX_AVATAX_LICENSE_KEY", default=""),
        "company_code": env("TAX_AVATAX_COMPANY_CODE", default="DEFAULT"),
    }
if env("TAX_VERTEX_URL", default=""):
    TAX_ENGINES["vertex"] = {
        "url": env("TAX_VERTEX_URL"),
        "client_id": env("TAX_VERTEX_CLIENT_ID", default=""),
        "client_secret": env("TAX_VERTEX_CLIENT_SECRET", default=""),
        "company_code": env("TAX_VERTEX_COMPANY_CODE", default=""),
    }
TAX_ENGINE_CREDENTIALS = env.json("TAX_ENGINE_CREDENTIALS", default={})

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",  # `Authorization: Token <token>`
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON numbers with a fraction or exponent parse as Decimal (config.parsers), never float.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.DecimalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",  # 400 on a bad ?page=
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cloud billing API",
    "DESCRIPTION": "Provider, reseller and customer billing: accounts, documents, balances.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, where two models use the same field name (status) or one choice
    # set serves two fields (daily_invoicing, mode).
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "resellers.models.Account.Status",
        "DocumentStatusEnum": "billing.models.DocumentStatus",
        "DailyInvoicingEnum": "resellers.models.Account.DailyInvoicing",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "OrderStatusShownEnum": "orders.serializers.SHOWN_STATUSES",
        "SubscriptionStatusEnum": "orders.models.SubscriptionStatus",
        "BillingRunKindEnum": "billing.models.BillingRun.Kind",
        "BillingRunStatusEnum": "billing.models.BillingRun.Status",
        "WebhookEventEnum": "billing.models.WebhookEvent",
        "WebhookDeliveryStatusEnum": "billing.models.WebhookDelivery.Status",
    },
}

# API tokens (django-rest-knox): stored as SHA-512 digests, valid API_TOKEN_TTL_DAYS days.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
}

DJANGO_TABLES2_TEMPLATE = "dashboard/table.html"

# Content Security Policy (django-csp 4), in every environment: everything from this origin only,
# no inline script or style anywhere (templates/ has none: tests/functional/test_csp.py scans
# it), no plugins, no <base> elsewhere, never framed, forms post here only. The Swagger UI
# (config/api_urls.py) loads its init script as a file and may show data: images (its icons);
# the Django admin needs nothing inline (tests/browser/test_confirmations.py runs both).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Celery: Redis broker in every real deployment; eager mode only as the embedded default.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TIMEZONE = TIME_ZONE
# Time limits of the billing tasks (billing/tasks.py), in seconds: soft (SoftTimeLimitExceeded
# raised in the task) then hard (the worker kills it). Both stay well under the visibility
# timeout above, so a killed task is not also redelivered by the broker while still running.
# A chunk bills at most CHUNK_SIZE accounts and about CHUNK_WEIGHT lines (billing.runs); past
# its soft limit it rolls back and records its failure, closing its run.
BILLING_RUN_CHUNK_SOFT_TIME_LIMIT = env.int("BILLING_RUN_CHUNK_SOFT_TIME_LIMIT", default=600)
BILLING_RUN_CHUNK_TIME_LIMIT = env.int("BILLING_RUN_CHUNK_TIME_LIMIT", default=720)
# Starting a run converts the date's ended trials (one credit check each), finds the due
# accounts and their weights, and sends the first phase's chunks.
BILLING_RUN_START_SOFT_TIME_LIMIT = env.int("BILLING_RUN_START_SOFT_TIME_LIMIT", default=300)
BILLING_RUN_START_TIME_LIMIT = env.int("BILLING_RUN_START_TIME_LIMIT", default=360)
BILLING_VERIFY_BALANCES_SOFT_TIME_LIMIT = env.int(
    "BILLING_VERIFY_BALANCES_SOFT_TIME_LIMIT", default=600
)
BILLING_VERIFY_BALANCES_TIME_LIMIT = env.int("BILLING_VERIFY_BALANCES_TIME_LIMIT", default=660)
# Automatic top-up charges each account's card through the payment gateway, one at a time.
BILLING_AUTO_TOPUP_SOFT_TIME_LIMIT = env.int("BILLING_AUTO_TOPUP_SOFT_TIME_LIMIT", default=540)
BILLING_AUTO_TOPUP_TIME_LIMIT = env.int("BILLING_AUTO_TOPUP_TIME_LIMIT", default=600)
# Automatic top-up (billing.auto_topups): beat runs it every AUTO_TOPUP_INTERVAL_MINUTES (cheap
# when nobody is below a threshold). A declined charge is retried after each entry of
# AUTO_TOPUP_RETRY_HOURS in turn (hours after the previous attempt; "1,6,24" in the
# environment), then the default card once. A worker's claim on an attempt it sent lasts
# AUTO_TOPUP_ATTEMPT_LEASE_MINUTES; past it, the next run resumes the attempt with the same key.
AUTO_TOPUP_INTERVAL_MINUTES = env.int("AUTO_TOPUP_INTERVAL_MINUTES", default=10)
AUTO_TOPUP_RETRY_HOURS = env.list("AUTO_TOPUP_RETRY_HOURS", cast=int, default=[1, 6, 24])
AUTO_TOPUP_ATTEMPT_LEASE_MINUTES = env.int("AUTO_TOPUP_ATTEMPT_LEASE_MINUTES", default=5)
# Resuming orders a crash left midway (orders/tasks.py): each one's chain, card charge included.
ORDERS_RESUME_SOFT_TIME_LIMIT = env.int("ORDERS_RESUME_SOFT_TIME_LIMIT", default=300)
ORDERS_RESUME_TIME_LIMIT = env.int("ORDERS_RESUME_TIME_LIMIT", default=360)
# Any other task (an email, a future job) gets these limits unless it sets its own.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# The beat schedule is static and lives here, in code (no django-celery-beat tables).
CELERY_BEAT_SCHEDULE = {
    "verify-balances-nightly": {
        "task": "billing.tasks.verify_balances",
        "schedule": crontab(hour=2, minute=30),
    },
    # The day's runs, for today (billing.runs): daily invoicing first, so the transactions it
    # invoices never reach a billing order issued the same day.
    "daily-invoicing": {
        "task": "billing.tasks.run_billing",
        "schedule": crontab(hour=0, minute=30),
        "kwargs": {"kind": "daily"},
    },
    "billing-date-run": {
        "task": "billing.tasks.run_billing",
        "schedule": crontab(hour=1, minute=0),
    },
    "resume-stalled-orders": {
        "task": "orders.tasks.resume_stalled_orders",
        "schedule": crontab(minute="*/10"),
    },
    # Dunning (billing.dunning) for today, after the night's runs and top-ups: reminders, credit
    # hold, suspension, and the lifting of a hold that a payment did not already lift.
    "dunning-daily": {
        "task": "billing.tasks.run_dunning",
        "schedule": crontab(hour=7, minute=0),
    },
    "auto-topup": {
        "task": "billing.tasks.auto_topup",
        "schedule": timedelta(minutes=AUTO_TOPUP_INTERVAL_MINUTES),
    },
    # The provider-wide General Statistics' snapshot (dashboard.statistics), read while it is at
    # most DASHBOARD_STATISTICS_MAX_AGE seconds old; older, the figures are computed live.
    "provider-statistics": {
        "task": "dashboard.tasks.refresh_provider_statistics",
        "schedule": crontab(minute="*"),
    },
    # Webhook deliveries whose queued attempt was lost (billing.webhooks.webhook_requeue_due).
    "webhooks-requeue": {
        "task": "billing.tasks.requeue_webhooks",
        "schedule": crontab(minute="*/5"),
    },
}
# The provider's dunning policy (billing.dunning), overridden per issuer by its DunningPolicy:
# reminders this many days before and after a document's due date; credit hold and suspension of
# the account's own subscriptions this many days after its oldest overdue document's due date.
DUNNING_REMINDER_DAYS_BEFORE = env.list("DUNNING_REMINDER_DAYS_BEFORE", cast=int, default=[3])
DUNNING_REMINDER_DAYS_AFTER = env.list("DUNNING_REMINDER_DAYS_AFTER", cast=int, default=[1, 7])
DUNNING_CREDIT_HOLD_DAYS = env.int("DUNNING_CREDIT_HOLD_DAYS", default=14)
DUNNING_SUSPENSION_DAYS = env.int("DUNNING_SUSPENSION_DAYS", default=30)
BILLING_DUNNING_SOFT_TIME_LIMIT = env.int("BILLING_DUNNING_SOFT_TIME_LIMIT", default=900)
BILLING_DUNNING_TIME_LIMIT = env.int("BILLING_DUNNING_TIME_LIMIT", default=960)
DASHBOARD_STATISTICS_MAX_AGE = env.int("DASHBOARD_STATISTICS_MAX_AGE", default=180)

# Webhooks (billing.webhooks): each delivery is tried up to WEBHOOK_MAX_ATTEMPTS times, waiting
# WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1) between attempts, at most
# WEBHOOK_BACKOFF_MAX_SECONDS (kept under the broker's visibility timeout above: Redis hands a
# message with a longer countdown to a second worker; each message names its attempt, so that
# makes no second attempt, but it costs a round trip). Defaults: 8 attempts, 30 s apart, then
# 1, 2, 4, 8, 16 and 30 minutes: about an hour in all. Each request waits
# WEBHOOK_TIMEOUT_SECONDS for an answer. A pending delivery whose attempt is overdue by
# WEBHOOK_REQUEUE_AFTER_SECONDS (its message was lost) is queued again by the beat job below.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_SECONDS = env.int("WEBHOOK_BACKOFF_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=1800)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_REQUEUE_AFTER_SECONDS = env.int("WEBHOOK_REQUEUE_AFTER_SECONDS", default=900)
# The Celery queue of the webhook attempts; empty: the default queue. A queue of their own, with
# workers of its own (`celery -A config worker -Q webhooks`), keeps slow endpoints from holding
# up the billing jobs.
WEBHOOK_QUEUE = env("WEBHOOK_QUEUE", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django's default config gives "django" a console handler of its own; without this override
    # every line would print twice (once there, once through root).
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
