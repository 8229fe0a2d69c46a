"""``python -m cors_wsgi``: the ``cors-wsgi`` command (see :mod:`cors_wsgi.cli`)."""

from cors_wsgi.cli import main

if __name__ == "__main__":
    main(prog_name="python -m cors_wsgi")
