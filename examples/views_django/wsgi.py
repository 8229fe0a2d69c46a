"""WSGI entry point: ``gunicorn examples.views_django.wsgi:application``.

No wrapping here: ``cors_wsgi.django.CORSMiddleware`` is in ``MIDDLEWARE``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.views_django.settings")
application = get_wsgi_application()
