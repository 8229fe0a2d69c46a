"""A Django project with per-view CORS policies: cors_wsgi.django in MIDDLEWARE."""
