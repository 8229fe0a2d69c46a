"""Allowed origins, one row each, validated with cors_wsgi's rules on save."""

from django.core.exceptions import ValidationError
from django.db import models

from cors_wsgi import CORSConfigError
from cors_wsgi.store import validate_origin


def validate_cors_origin(value: str) -> None:
    """The rules of ``allow_origins`` with credentials: serialized form, no
    ``null``, no ``http:`` origin but loopback; the message gives the fix."""
    try:
        validate_origin(value, allow_credentials=True)
    except CORSConfigError as error:
        raise ValidationError("; ".join(p.message for p in error.problems)) from None


class AllowedOrigin(models.Model):
    origin = models.CharField(max_length=512, unique=True, validators=[validate_cors_origin],
                              help_text="A serialized origin, e.g. https://shop.customer.example")

    def save(self, *args: object, **kwargs: object) -> None:
        self.full_clean()  # code paths outside the admin are validated too
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.origin
