"""WSGI entry point: Django's application wrapped by cors_wsgi.

Serve it with any WSGI server, e.g.::

    gunicorn examples.django_site.wsgi:application -b 127.0.0.1:8000
    waitress-serve --listen=127.0.0.1:8000 examples.django_site.wsgi:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_site.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from cors_wsgi import CORSMiddleware

application = CORSMiddleware.from_settings(get_wsgi_application(), settings)
