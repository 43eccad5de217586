"""Rate limits shared by workers: a window in Redis (with a broker) or in this process."""

import secrets

import pytest
from django.conf import settings

from integrations import ratelimit


def test_local_window():
    limiter = ratelimit.LocalWindowLimiter(limit=2, window=60)
    assert limiter.reserve("a", 0) == 0 and limiter.reserve("a", 1) == 0
    assert limiter.reserve("a", 2) == pytest.approx(58)
    assert limiter.reserve("b", 2) == 0
    assert limiter.reserve("a", 60.5) == 0


def test_without_a_broker_every_task_of_the_process_shares_one_window():
    first = ratelimit.window_limiter(namespace="kivra:t1", limit=2, window=60)
    second = ratelimit.window_limiter(namespace="kivra:t1", limit=2, window=60)
    other = ratelimit.window_limiter(namespace="kivra:t2", limit=2, window=60)
    assert first is second and first is not other
    assert isinstance(first, ratelimit.LocalWindowLimiter)
    assert first.reserve_many(["x", "x"]) == [0, 0]
    assert second.reserve_many(["x"])[0] > 0
    assert other.reserve_many(["x"]) == [0]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_redis_window_is_shared_by_two_workers_and_keys_are_hashed():
    import redis

    namespace = f"test:{secrets.token_hex(4)}"
    worker_a = ratelimit.RedisWindowLimiter(
        url=settings.REDIS_URL, namespace=namespace, limit=2, window=60
    )
    worker_b = ratelimit.RedisWindowLimiter(
        url=settings.REDIS_URL, namespace=namespace, limit=2, window=60
    )
    ssn = "198001011234"
    try:
        assert worker_a.reserve_many([ssn, "199001011234"]) == [0, 0]
        assert worker_b.reserve(ssn) == 0
        wait = worker_a.reserve_many([ssn])[0]  # the third in a minute, whoever asks
        assert 59 < wait <= 60
        assert worker_b.reserve("199001011234") == 0
        keys = redis.Redis.from_url(settings.REDIS_URL).keys(f"flexbridge:ratelimit:{namespace}:*")
        assert len(keys) == 2 and not any(ssn.encode() in key for key in keys)
    finally:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.keys(f"flexbridge:ratelimit:{namespace}:*"):
            client.delete(key)
