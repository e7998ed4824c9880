"""Production: everything from the environment, secure by default.

Requires SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis) and
ADMIN_URL (the Django admin's path, e.g. `staff-7f3a/`: not the well-known `admin/`).
`manage.py check --deploy` passes without warnings with these set.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CELERY_TASK_ALWAYS_EAGER = False
ADMIN_URL = env("ADMIN_URL")
if ADMIN_URL.strip("/") in ("", "admin") or not ADMIN_URL.endswith("/"):
    raise ImproperlyConfigured(
        "Set ADMIN_URL to the admin's own path ending in '/', e.g. 'staff-7f3a/' (not 'admin/')."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind one reverse proxy (the one that sets X-Forwarded-Proto above): the login lockout keys on
# the client's address it saw (X-Forwarded-For), not the proxy's. TRUSTED_PROXY_COUNT=0 if none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
