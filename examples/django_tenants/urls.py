from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path


def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"tenant": "data"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/data", data),
]
