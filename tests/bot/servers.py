"""This machine's PostgreSQL and Redis, for the tests of what several processes share.

PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) and Redis on 127.0.0.1:6379 run on
this project's machines. Each test gets a PostgreSQL schema and a Redis key prefix of its own,
removed after. Without them the tests are skipped with a reason, unless
HEDGEBOT_REQUIRE_SERVICES is set (CI sets it), which turns the skip into a failure.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

POSTGRES = os.environ.get("HEDGEBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("HEDGEBOT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _absent(service: str, where: str, why: object, variable: str) -> None:
    if os.environ.get("HEDGEBOT_REQUIRE_SERVICES"):
        pytest.fail(f"{service} at {where} is required here and cannot be reached: {why}")
    pytest.skip(f"no {service} at {where} (set {variable} to point at one)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, as a URL that makes it the search path."""
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        _absent("PostgreSQL", POSTGRES, exc, "HEDGEBOT_TEST_POSTGRES")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def redis_prefix() -> str:
    """The key prefix of this test's Redis keys."""
    return f"hedgebot-test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def redis(redis_prefix: str) -> AsyncIterator[Redis]:
    """A client of the Redis on 127.0.0.1:6379; this test's keys (under `redis_prefix`) are
    removed after."""
    client = Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        await client.ping()
    except RedisError as exc:
        await client.aclose()
        _absent("Redis", REDIS, exc, "HEDGEBOT_TEST_REDIS")
    yield client
    async for key in client.scan_iter(match=f"{redis_prefix}*"):
        await client.delete(key)
    await client.aclose()
