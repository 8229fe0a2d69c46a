from django.urls import path

from examples.django_site import views

urlpatterns = [
    path("api/items", views.items),
    path("api/items/<int:item_id>", views.item),
    path("api/fail", views.fail),
]
