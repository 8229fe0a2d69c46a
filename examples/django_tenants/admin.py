from django.contrib import admin

from examples.django_tenants.models import AllowedOrigin

admin.site.register(AllowedOrigin)
