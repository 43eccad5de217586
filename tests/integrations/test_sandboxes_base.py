"""Serving a sandbox in a test: it answers while served and stops as soon as it is left."""

import socket
import struct
import time
from http.server import ThreadingHTTPServer

import httpx
import pytest

from integrations.sandboxes.base import STOP_POLL_INTERVAL, Response, Sandbox, route


class PingSandbox(Sandbox):
    name = "ping"

    @route("GET", "/ping")
    def ping(self, request):
        return Response(200, {"pong": True})


def test_serving_answers_then_stops_without_the_default_half_second_poll(monkeypatch):
    polls = []
    serve_forever = ThreadingHTTPServer.serve_forever

    def spy(self, poll_interval=0.5):
        polls.append(poll_interval)
        return serve_forever(self, poll_interval)

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", spy)
    with PingSandbox().serving() as url:
        assert httpx.get(f"{url}/ping").json() == {"pong": True}
    # shutdown() is noticed at the next poll: the sandbox polls far more often than the
    # default 0.5 s, so leaving serving() does not wait.
    assert polls == [STOP_POLL_INTERVAL] and STOP_POLL_INTERVAL < 0.5
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/ping", timeout=1.0)


def test_a_client_that_goes_away_mid_answer_leaves_no_traceback(capfd):
    """A killed worker's connections drop while the sandbox answers: a real server logs
    nothing for that, and neither does the sandbox (the benchmark's console stays clean)."""
    sandbox = PingSandbox(latency_ms=100)
    with sandbox.serving() as url:
        port = int(url.rsplit(":", 1)[1])
        for _attempt in range(3):
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(b"GET /ping HTTP/1.1\r\nHost: sandbox\r\n\r\n")
                # close with a reset (linger 0) before the answer is written
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            time.sleep(0.2)
        assert httpx.get(f"{url}/ping").json() == {"pong": True}
    assert "Traceback" not in capfd.readouterr().err
