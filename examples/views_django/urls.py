"""URLs of the per-view example."""

from django.urls import path

from examples.views_django import views

urlpatterns = [
    path("api/items", views.list_items),
    path("api/items/<int:item>", views.update_item),
    path("api/admin/items/<int:item>", views.AdminItem.as_view()),
    path("api/webhook", views.webhook),
]
