from django.urls import path

from projections import api, views

urlpatterns = [
    path("api/read/orders", api.OrderProjectionListApi.as_view(), name="read-orders"),
    path("api/read/status-counts", api.StatusCountsApi.as_view(), name="read-status-counts"),
    path("api/read/orders/<str:order_id>", api.OrderProjectionDetailApi.as_view(), name="read-order"),
    path("api/read/orders/<str:order_id>/stream", views.order_stream, name="read-order-stream"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
