"""The embedded SQLite is set up for concurrent use: WAL, a busy timeout, and IMMEDIATE
transactions, so two writers at once wait for each other instead of one failing with
"database is locked"."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the embedded database only (SQLite)"
)


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _wrapper(path, alias):
    settings_dict = {**connection.settings_dict, "NAME": str(path)}
    return DatabaseWrapper(settings_dict, alias=alias)


def test_a_file_database_runs_in_wal_with_a_busy_timeout(tmp_path):
    db = _wrapper(tmp_path / "db.sqlite3", "wal-check")
    try:
        with db.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 5000
        assert db.transaction_mode == "IMMEDIATE"
    finally:
        db.close()


def test_two_read_then_write_transactions_at_once_both_commit(tmp_path):
    path = tmp_path / "db.sqlite3"
    setup = _wrapper(path, "setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    setup.close()
    both_read = threading.Barrier(2, timeout=5)
    errors: list[BaseException] = []

    def bump(alias):
        connections[alias] = _wrapper(path, alias)
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                (value,) = cursor.fetchone()
                # IMMEDIATE: the other writer waits at BEGIN, so the barrier breaks.
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait(timeout=0.5)
                cursor.execute("UPDATE counter SET n = %s", [value + 1])
        except Exception as exc:
            errors.append(exc)
        finally:
            connections[alias].close()
            del connections[alias]

    threads = [threading.Thread(target=bump, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = _wrapper(path, "check")
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone()[0] == 2
    check.close()
