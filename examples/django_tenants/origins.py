"""The predicate cors_wsgi asks about origins it does not list statically."""


def is_allowed_origin(origin: str) -> bool:
    from examples.django_tenants.models import AllowedOrigin

    return AllowedOrigin.objects.filter(origin=origin).exists()
