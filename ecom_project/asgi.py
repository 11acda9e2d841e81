"""ASGI entry point: HTTP (Django) and websockets (Channels)."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecom_project.settings")
django.setup(set_prefix=False)

from ecom_project.http_handler import PooledThreadASGIHandler  # noqa: E402  (needs Django set up first)

django_asgi_app = PooledThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from ecom_project.routing import websocket_urlpatterns  # noqa: E402
from ecom_project.websocket_close_codes import allow_client_frame_close_codes  # noqa: E402

from django.conf import settings  # noqa: E402

if settings.WEB_OUTBOX_RELAY:  # a web process of its own (runmulti, compose): publish what requests write
    from ecom_project.messaging.consumers import consumer_spec
    from ecom_project.messaging.worker import start_web_relays

    start_web_relays([consumer_spec(name) for name in settings.WEB_OUTBOX_RELAY])

allow_client_frame_close_codes()  # bad client frames close with 1003/1007/1008/1009, not 1011

# Websockets carry no CSRF protection, so a page of another site could open one with the visitor's
# session cookie: the handshake's Origin must be one of ALLOWED_HOSTS (a missing Origin too is refused,
# so tools send one). Then the session authenticates it, as on the pages.
application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
