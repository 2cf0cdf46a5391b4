"""The HTTP side: a threading server whose handler routes to the simulator."""

import logging
import select
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from . import control
from .responses import Response, error_response

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger(__name__)

SIEM_ROUTES = {
    "/gateway/siem/v1/events": "events",
    "/gateway/siem/v1/alerts": "alerts",
}
CONTROL_PREFIX = "/_sim/"
POLL_SECONDS = 0.1


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, simulator: "Simulator", address: tuple[str, int]) -> None:
        self.simulator = simulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SophosCentralSimulator/1.0"
    # Seconds an idle keep-alive connection stays open.
    timeout = 30

    server: SimulatorServer

    @property
    def sim(self) -> "Simulator":
        return self.server.simulator

    def setup(self) -> None:
        super().setup()
        self.sim.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            # A reset or vanished connection is already closed, so nothing is flushed.
            pass
        self.sim.connections.discard(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "cursor" in query:
            # A raw `+` in a cursor arrives as a space after form decoding.
            query["cursor"] = query["cursor"].replace(" ", "+")

        if parts.path.startswith(CONTROL_PREFIX):
            self._deliver(self._guarded(self._control, method, parts.path))
            return

        record = self.sim.log.begin(method, parts.path, query, self.sim.clock.now())
        response = self._guarded(self._siem_response, method, parts.path, query)
        # The status is logged before sending, so a client that has its response
        # always finds it in the log. Hangs and resets send none and log None.
        self.sim.log.finish(record, response.status or None)
        self._deliver(response)

    def _siem_response(self, method: str, path: str, query: dict) -> Response:
        stream = SIEM_ROUTES.get(path)
        now_ms = self.sim.clock.now_ms()
        self._read_body()

        if stream is None:
            return error_response(404, now_ms)
        if method != "GET":
            response = error_response(405, now_ms)
            response.headers["Allow"] = "GET"
            return response
        return self.sim.api.handle(stream, query, self.headers)

    def _control(self, method: str, path: str) -> Response:
        return control.handle(self.sim, method, path, self._read_body())

    def _guarded(self, build, method: str, path: str, *args: object) -> Response:
        """Call `build`, turning an unexpected exception into a logged 500."""
        try:
            return build(method, path, *args)
        except Exception:
            logger.exception("Failed to handle %s %s", method, path)
            return error_response(500, self.sim.clock.now_ms())

    def _read_body(self) -> bytes:
        """Read the body, or nothing when Content-Length is missing or invalid."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _deliver(self, response: Response) -> None:
        try:
            if response.delivery == "reset":
                self._reset()
            elif response.delivery == "hang":
                self._hang(response.seconds)
            elif response.delivery == "trickle":
                self._trickle(response)
            else:
                self._send(response)
        except (BrokenPipeError, ConnectionResetError, TimeoutError) as error:
            logger.info("Client %s went away: %s", self.address_string(), error)
            self.close_connection = True

    def _send_headers(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, response: Response) -> None:
        self._send_headers(response)
        self.wfile.write(response.body)

    def _trickle(self, response: Response) -> None:
        """Send the headers, then the body one byte every `interval` seconds."""
        self._send_headers(response)
        self.wfile.flush()

        for index in range(len(response.body)):
            if self.sim.wait(response.interval):
                self.close_connection = True
                return
            self.wfile.write(response.body[index : index + 1])
            self.wfile.flush()

    def _hang(self, seconds: float) -> None:
        """Send nothing until the client closes, `seconds` pass or the server stops."""
        deadline = time.monotonic() + seconds
        self.close_connection = True

        while time.monotonic() < deadline and not self.sim.stopping:
            readable, _, _ = select.select([self.connection], [], [], POLL_SECONDS)
            if readable and not self._peer_open():
                return
            if readable:
                time.sleep(POLL_SECONDS)

    def _peer_open(self) -> bool:
        try:
            return self.connection.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    def _reset(self) -> None:
        """Close the connection with a TCP reset and no response."""
        linger = struct.pack("ii", 1, 0)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.close_connection = True
        self.connection.close()
