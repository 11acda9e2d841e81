"""Websocket routes of the project (apps add theirs here)."""
from projections.routing import websocket_urlpatterns as projections_websockets

websocket_urlpatterns: list = [*projections_websockets]
