"""The shared HTTP client against a real HTTP sandbox: retries, backoff, lost answers."""

import httpx
import pytest

from integrations.clients.base import (
    AnswerLost,
    BaseClient,
    OutsideSystemError,
    RetryPolicy,
    TransientError,
)
from integrations.sandboxes.base import Response, Sandbox, route


class EchoSandbox(Sandbox):
    name = "echo"

    def seed(self):
        self.items = []

    def state(self):
        return {"items": self.items}

    @route("GET", "/items")
    def list_items(self, request):
        return Response(200, {"items": self.items})

    @route("POST", "/items")
    def add_item(self, request):
        if not request.json().get("name"):
            return Response(422, {"message": "name is required", "code": "E422"})
        self.items.append(request.json()["name"])
        return Response(201, {"name": request.json()["name"]})


class EchoClient(BaseClient):
    system = "Echo"


@pytest.fixture
def sandbox():
    return EchoSandbox()


@pytest.fixture
def served(sandbox):
    with sandbox.serving() as url:
        sleeps = []
        client = EchoClient(
            url,
            timeout=httpx.Timeout(0.5, connect=0.5),
            retry=RetryPolicy(max_attempts=4, backoff_base=0.01),
            sleep=sleeps.append,
        )
        yield client, sleeps
        client.close()


def test_retries_5xx_then_succeeds(sandbox, served):
    client, sleeps = served
    sandbox.faults.fail_next = 2
    response = client.request("POST", "/items", json={"name": "a"}, idempotent=True)
    assert response.status_code == 201
    assert sandbox.items == ["a"]
    assert len(sleeps) == 2
    assert client.last_call.attempts == 3


def test_429_honours_retry_after(sandbox, served):
    client, sleeps = served
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = 7
    client.request("GET", "/items")
    assert len(sleeps) == 1
    assert 7 <= sleeps[0] < 7.2


def test_gives_up_after_max_attempts_with_transient_error(sandbox, served):
    client, sleeps = served
    sandbox.faults.fail_next = 10
    with pytest.raises(TransientError) as info:
        client.request("GET", "/items")
    assert info.value.status == 503
    assert info.value.correlation_id.startswith("sbx-")
    assert len(sleeps) == 3


def test_client_error_in_system_words_is_not_retried(sandbox, served):
    client, sleeps = served
    with pytest.raises(OutsideSystemError) as info:
        client.request("POST", "/items", json={})
    assert info.value.status == 422
    assert "name is required" in str(info.value)
    assert not isinstance(info.value, TransientError)
    assert sleeps == []


def test_lost_answer_on_post_is_not_resent(sandbox, served):
    client, sleeps = served
    sandbox.faults.drop_after_accept_next = 1
    with pytest.raises(AnswerLost):
        client.request("POST", "/items", json={"name": "once"})
    # The server did process it: the caller must look it up, not send again.
    assert sandbox.items == ["once"]
    assert sleeps == []


def test_read_timeout_on_get_is_retried(sandbox, served):
    client, _sleeps = served
    sandbox.faults.timeout_next = 1
    sandbox.faults.timeout_seconds = 1.0
    assert client.request("GET", "/items").status_code == 200
    assert client.last_call.attempts == 2


def test_connection_refused_is_transient():
    client = EchoClient(
        "http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2), sleep=lambda s: None
    )
    with pytest.raises(TransientError) as info:
        client.request("GET", "/items")
    assert "could not connect" in str(info.value)


def test_sandbox_state_lists_accepted_requests(sandbox, served):
    client, _ = served
    client.request("POST", "/items", json={"name": "x"})
    state = client.request("GET", "/_sandbox/state").json()
    assert state["store"] == {"items": ["x"]}
    assert state["requests"] == [{"method": "POST", "path": "/items", "status": 201}]


def test_connection_reset_is_a_lost_answer_on_post_and_retried_on_get():
    """A reset connection (``ECONNRESET`` while waiting) may have run the request: a POST
    raises AnswerLost (not an unhandled httpx error), a GET is asked again."""
    calls = []

    def reset_once(request):
        calls.append(request.method)
        if len(calls) in (1, 2):
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        return httpx.Response(200, json={"items": []})

    client = EchoClient(
        "http://echo.invalid",
        transport=httpx.MockTransport(reset_once),
        retry=RetryPolicy(max_attempts=3, backoff_base=0.01),
        sleep=lambda _seconds: None,
    )
    with pytest.raises(AnswerLost):
        client.request("POST", "/items", json={"name": "maybe"})
    assert client.request("GET", "/items").status_code == 200
    assert calls == ["POST", "GET", "GET"]
    client.close()


class LeakySandbox(Sandbox):
    """Answers like an internal service a rogue link could point at."""

    name = "leaky"

    @route("POST", "/html")
    def html(self, request):
        page = "<html><body>" + "internal stack trace line\n" * 500 + "</body></html>"
        return Response(500, raw=page.encode(), headers={"Content-Type": "text/html"})

    @route("POST", "/json")
    def json_body(self, request):
        return Response(400, {"instance_metadata": {"AccessKeyId": "AKIA-LEAK"}, "x": "y" * 900})

    @route("POST", "/long")
    def long_message(self, request):
        return Response(400, {"message": "bad\n\x00request " + "z" * 1000})


def test_errors_quote_only_a_short_sanitised_excerpt():
    with LeakySandbox().serving() as url:
        client = EchoClient(url, retry=RetryPolicy(max_attempts=1), sleep=lambda _s: None)
        with pytest.raises(AnswerLost) as html:
            client.request("POST", "/html")
        assert "stack trace" not in str(html.value) and "<" not in str(html.value)
        with pytest.raises(OutsideSystemError) as leak:
            client.request("POST", "/json")
        assert "AKIA-LEAK" not in str(leak.value) and "Bad Request" in str(leak.value)
        with pytest.raises(OutsideSystemError) as long:
            client.request("POST", "/long")
        message = long.value.message
        assert message.startswith("bad request zzz") and len(message) <= 200
        assert "\x00" not in str(long.value) and "\n" not in str(long.value)
