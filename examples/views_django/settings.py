"""Settings of the per-view example: ``cors_wsgi.django.CORSMiddleware`` in
``MIDDLEWARE`` reads the ``CORS_*`` settings; ``views.py`` has one view with a
stricter ``@cross_origin`` policy and one ``@no_cross_origin`` webhook."""

import os

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examples.views_django.urls"
INSTALLED_APPS = ["cors_wsgi.django.CORSAppConfig"]
MIDDLEWARE = [
    "cors_wsgi.django.CORSMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

#: The page allowed by the site-wide policy, and the admin page (views.py).
PAGE_ORIGIN = os.environ.get("VIEWS_PAGE_ORIGIN", "http://localhost:8080")
ADMIN_ORIGIN = os.environ.get("VIEWS_ADMIN_ORIGIN", "http://127.0.0.1:8080")

CORS_ALLOW_ORIGINS = [PAGE_ORIGIN]
CORS_ALLOW_METHODS = ["GET", "POST", "PUT"]
CORS_ALLOW_HEADERS = ["Content-Type"]
CORS_PATHS = ["/api/*"]
