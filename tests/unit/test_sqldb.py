"""The SQL door of the conversation database (runtime/sqldb.py): placeholder translation for
psycopg, and the SQLite side's transactions and paged scans on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportgraph.runtime import sqldb
from supportgraph.runtime.sqldb import SqliteDb, to_pyformat


@pytest.mark.parametrize(
    ("sqlite", "psycopg"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        (
            "INSERT INTO t VALUES (?, 'open', ?, NULL)",
            "INSERT INTO t VALUES (%s, 'open', %s, NULL)",
        ),
        # A `?` inside a string literal or a quoted identifier is text.
        ("SELECT '?', \"a?\" FROM t WHERE x = ?", "SELECT '?', \"a?\" FROM t WHERE x = %s"),
        # A doubled quote inside a literal does not end it.
        ("SELECT 'it''s ?' WHERE y = ?", "SELECT 'it''s ?' WHERE y = %s"),
        # psycopg reads every % as a placeholder's start, inside quotes too: doubled.
        (
            "SELECT x FROM t WHERE y LIKE '%a?%' AND z = ?",
            "SELECT x FROM t WHERE y LIKE '%%a?%%' AND z = %s",
        ),
        ("SELECT 100 % 7", "SELECT 100 %% 7"),
        ("to_jsonb(?::text)", "to_jsonb(%s::text)"),
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_question_marks_become_psycopg_placeholders(sqlite: str, psycopg: str) -> None:
    assert to_pyformat(sqlite) == psycopg


async def test_a_sqlite_transaction_commits_whole_or_not_at_all(tmp_path: Path) -> None:
    db = await SqliteDb.open(tmp_path / "c.db")
    try:
        await db.executescript("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.run("INSERT INTO t VALUES (?, ?)", ("a", 1))
                raise RuntimeError("fails half way")
        assert await db.all("SELECT k FROM t") == []
        async with db.transaction() as tx:
            await tx.run("INSERT INTO t VALUES (?, ?)", ("a", 1))
            assert await tx.one("SELECT v FROM t WHERE k = ?", ("a",)) == (1,)
        assert await db.run("UPDATE t SET v = v + 1 WHERE k = ?", ("a",)) == 1
        assert await db.all("SELECT k, v FROM t") == [("a", 2)]
    finally:
        await db.close()


async def test_a_sqlite_scan_reads_every_row_page_by_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqldb, "SCAN_PAGE", 2)
    db = await SqliteDb.open(tmp_path / "c.db")
    try:
        await db.executescript("CREATE TABLE t (thread_id TEXT, v TEXT);")
        for n in range(5):
            await db.run("INSERT INTO t VALUES (?, ?)", (f"t{n}", f"v{n}"))
        assert [row async for row in db.scan("t", "v")] == [(f"t{n}", f"v{n}") for n in range(5)]
        assert [row async for row in db.scan("missing", "v")] == []
    finally:
        await db.close()
