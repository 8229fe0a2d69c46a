"""A multi-tenant Django project: allowed origins in a model, edited in the admin.

The customers' origins are rows of :class:`examples.django_tenants.models.AllowedOrigin`
(validated with cors_wsgi's own rules when saved, in the admin or in code),
read by :func:`examples.django_tenants.origins.is_allowed_origin` as
``CORS_ALLOW_ORIGIN_PREDICATE``.  Run it::

    export DJANGO_SETTINGS_MODULE=examples.django_tenants.settings
    python -m django migrate
    python -m django createsuperuser          # then /admin/ to add origins
    gunicorn examples.django_tenants.wsgi:application -w 2 -b 127.0.0.1:8000

This replaces django-cors-headers' ``check_request_enabled`` signal: the
predicate is cached per origin (``CORS_ORIGIN_CACHE_SECONDS``), probed at
start-up, and cannot be made to reflect every origin by mistake.
"""

import os
from pathlib import Path

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "examples.django_tenants.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "examples.django_tenants",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TENANTS_DB", str(Path.cwd() / "tenants.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"

# cors_wsgi, read by CORSMiddleware.from_settings(application, settings) in wsgi.py.
CORS_ALLOW_ORIGINS = ["https://app.example.com"]
CORS_ALLOW_ORIGIN_PREDICATE = "examples.django_tenants.origins:is_allowed_origin"
CORS_ORIGIN_CACHE_SECONDS = int(os.environ.get("CORS_ORIGIN_CACHE_SECONDS", "30"))
CORS_ALLOW_METHODS = ["GET", "PUT"]
CORS_ALLOW_HEADERS = ["Content-Type"]
CORS_ALLOW_CREDENTIALS = True
CORS_PATHS = ["/api/*"]
