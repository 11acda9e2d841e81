from django.urls import path

from projections.views import order_stream
from reference_compat import api

urlpatterns = [
    path("orders", api.ReferenceOrderCollectionApi.as_view(), name="reference-orders"),
    path("orders/<str:order_id>", api.ReferenceOrderDetailApi.as_view(), name="reference-order"),
    path("orders/<str:order_id>/stream", order_stream, name="reference-order-stream"),
    path("admin/retry/<str:order_id>", api.ReferenceOrderRetryApi.as_view(), name="reference-order-retry"),
    path("admin/compensate/<str:order_id>", api.ReferenceOrderCompensateApi.as_view(), name="reference-order-compensate"),
]
