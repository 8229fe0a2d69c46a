"""Runnable examples of cors_wsgi in front of real applications."""
