"""Settings of the example Django project: a JSON API, no database."""

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "examples.django_site.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

# cors_wsgi, read by CORSMiddleware.from_settings(application, settings) in wsgi.py.
CORS_ALLOW_ORIGINS = ["http://localhost:8080", "http://127.0.0.1:8080"]
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "DELETE"]
CORS_ALLOW_HEADERS = ["Content-Type", "Authorization"]
CORS_EXPOSE_HEADERS = ["X-Request-Id"]
CORS_ALLOW_CREDENTIALS = True
CORS_MAX_AGE = 600
CORS_PATHS = ["/api/*"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
