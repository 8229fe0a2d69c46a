"""cors_wsgi: framework-agnostic WSGI middleware for CORS, exact to the Fetch standard.

Public API: :class:`CORSPolicy` (what to allow, validated once),
:class:`CORSMiddleware` (the WSGI layer), :class:`CORSConfigError` and
:class:`Problem` (every configuration problem, at once), and the PasteDeploy
filter in :mod:`cors_wsgi.paste`.
"""

from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.middleware import CORSMiddleware
from cors_wsgi.policy import CORSPolicy

__all__ = ["CORSConfigError", "CORSMiddleware", "CORSPolicy", "Problem", "__version__"]

__version__ = "0.1.0"
