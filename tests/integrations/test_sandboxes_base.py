"""Serving a sandbox in a test: it answers while served and stops as soon as it is left."""

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
