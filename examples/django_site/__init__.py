"""A minimal Django project wrapped by cors_wsgi (policy from ``settings``)."""
