"""A throwaway HTTP server on loopback whose answers a test chooses per path: "something else
answers on the URL's port" (a web page, a health endpoint behind a proxy) produced for real."""

from __future__ import annotations

import contextlib
import http.server
import threading
from typing import Callable, Iterator

Answer = Callable[[str], tuple[int, bytes]]  # request path -> (status, body)


@contextlib.contextmanager
def serving(answer: Answer) -> Iterator[int]:
    """Serve GET (and POST) requests with `answer` until the block ends; yields the port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            status, body = answer(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # an app's session endpoint (LK502) is POSTed to

        def log_message(self, *args: object) -> None:
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        yield web.server_address[1]
    finally:
        web.shutdown()
