"""cors_wsgi: framework-agnostic WSGI middleware for CORS, exact to the Fetch standard.

Public API: :class:`CORSPolicy` (what to allow, validated once),
:class:`CORSMiddleware` (the WSGI layer), :func:`cross_origin` and
:func:`no_cross_origin` (policies per view), :class:`CORSConfigError` and
:class:`Problem` (every configuration problem, at once), and the PasteDeploy
filter in :mod:`cors_wsgi.paste`.
"""

from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.hostguard import HostGuard, WebSocketOriginGuard
from cors_wsgi.middleware import CORSMiddleware
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.protection import CrossOriginProtection
from cors_wsgi.views import cross_origin, no_cross_origin

__all__ = [
    "CORSConfigError", "CORSMiddleware", "CORSPolicy", "CrossOriginProtection", "HostGuard", "Problem",
    "WebSocketOriginGuard", "__version__", "cross_origin", "no_cross_origin",
]

__version__ = "0.1.0"
