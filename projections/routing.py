from django.urls import re_path

from projections.consumers import ProjectionForwardConsumer

websocket_urlpatterns = [
    re_path(r"^ws/orders/$", ProjectionForwardConsumer.as_asgi()),
    re_path(r"^ws/orders/(?P<order_id>[A-Za-z0-9_-]{1,64})/$", ProjectionForwardConsumer.as_asgi()),
]
