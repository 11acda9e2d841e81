from django.urls import path

from orders.api import OrderCreateApi, OrderDetailApi

urlpatterns = [
    path("api/orders", OrderCreateApi.as_view(), name="order-create"),
    path("api/orders/<str:order_id>", OrderDetailApi.as_view(), name="order-detail"),
]
