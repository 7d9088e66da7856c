"""Serve generated sites on 127.0.0.1 (one port per site, as one host each), with a request log.

`SiteServer(site)` starts a threaded HTTP/1.1 server in this process; `log` holds every request
(arrival time, path, User-Agent, conditional headers) so tests can check what was asked for, and
when. `python -m tests.sites.server NAME N_ITEMS` serves one site from a process of its own
(the benchmark's way: the crawler's memory and CPU are then measured alone); it prints the base
URL on its first line.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import site as sites
from .site import Site


@dataclass
class Hit:
    t: float  # time.monotonic() at arrival
    path: str
    user_agent: str
    if_none_match: str | None
    if_modified_since: str | None


class SiteServer:
    def __init__(self, site: Site, *, keep_log: bool = True):
        self.site = site
        self.log: list[Hit] = []
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                arrived = time.monotonic()
                with server._lock:
                    server.requests += 1
                    if keep_log:
                        server.log.append(Hit(arrived, self.path, self.headers.get("User-Agent", ""),
                                              self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")))
                    page = site.respond(self.path, self.headers.get("If-None-Match"))
                if page.delay:
                    time.sleep(page.delay)
                self.send_response(page.status)
                for k, v in page.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        site.base = self.base
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        with self._lock:
            return [h.path for h in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str]) -> None:
    name, n_items = argv[0], int(argv[1])
    make = {"zh-board": sites.zh_board, "tw-board": sites.tw_board, "fa-site": sites.fa_site, "vi-site": sites.vi_site}[name]
    server = SiteServer(make(n_items=n_items, spam=True), keep_log=False)
    print(server.base, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main(sys.argv[1:])
