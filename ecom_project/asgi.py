"""ASGI entry point: HTTP (Django) and websockets (Channels)."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecom_project.settings")
django.setup(set_prefix=False)

from ecom_project.http_handler import PooledThreadASGIHandler  # noqa: E402  (needs Django set up first)

django_asgi_app = PooledThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from ecom_project.routing import websocket_urlpatterns  # noqa: E402

from django.conf import settings  # noqa: E402

if settings.WEB_OUTBOX_RELAY:  # a web process of its own (runmulti, compose): publish what requests write
    from ecom_project.messaging.consumers import consumer_spec
    from ecom_project.messaging.worker import start_web_relays

    start_web_relays([consumer_spec(name) for name in settings.WEB_OUTBOX_RELAY])

application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns))}
)
