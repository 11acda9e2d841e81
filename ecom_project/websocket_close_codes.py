"""Let the application close a websocket with the RFC 6455 codes that say what was wrong with the
client's frame (1003 unsupported data, 1007 invalid payload, 1008 policy violation, 1009 too big).

daphne hands an application's close code to autobahn's `sendClose`, which accepts only 1000 and
3000-4999 (codes for applications) and raises for anything else: the socket then ended with 1011
and an ERROR traceback instead. autobahn's own protocol checks send these codes with
`sendCloseFrame`, the call `sendClose` makes after its check; daphne's close does the same here
for these four codes. Every other code takes daphne's path unchanged."""
from __future__ import annotations

from daphne.ws_protocol import WebSocketProtocol

CLIENT_FRAME_CLOSE_CODES = frozenset({1003, 1007, 1008, 1009})
_daphne_server_close = WebSocketProtocol.serverClose


def _server_close(self: WebSocketProtocol, code: int | None = None) -> None:
    if code in CLIENT_FRAME_CLOSE_CODES:
        self.sendCloseFrame(code=code, isReply=False)
    else:
        _daphne_server_close(self, code)


def allow_client_frame_close_codes() -> None:
    WebSocketProtocol.serverClose = _server_close
