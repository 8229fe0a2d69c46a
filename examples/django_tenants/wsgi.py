"""WSGI entry point: the tenants project wrapped by cors_wsgi, origins from the model.

    gunicorn examples.django_tenants.wsgi:application -w 2 -b 127.0.0.1:8000
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_tenants.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from cors_wsgi import CORSMiddleware

application = CORSMiddleware.from_settings(get_wsgi_application(), settings)
