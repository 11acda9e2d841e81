"""Websocket routes of the project (apps add theirs here)."""
websocket_urlpatterns: list = []
