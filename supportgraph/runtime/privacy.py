"""Privacy: find, export and erase one customer's data everywhere it went (GDPR articles 15
and 17).

A customer is known by their store record: id, email, phone, full name, street lines (now,
before an address change, on their orders) and payment method ids. Their data is found by
those identifiers, not only by the customer_id a verified conversation carries: someone who
gave name, phone and street but never the email left a conversation no id points to, and a
handoff is logged in the CRM before (or without) verification.

Where it went, and what erasure does there:

- conversations: the transcript (records, node steps, handoff queue, thread metadata, messages
  in flight) and the LangGraph checkpoints. A conversation that names the customer is deleted
  whole (`SupportAgent.delete_thread`: checkpoints, transcript, a fork's sandbox store).
- the store (`SqliteStore.erase_customer`): profile, CRM rows, subscriptions and before-images
  deleted; writes-log results scrubbed (keys kept for idempotency); orders kept for accounting
  but anonymised.
- replay sandboxes (`<data_dir>/sandboxes/*.db`, full copies of the store): erased the same way.
- then every write-ahead log is checkpointed and truncated; connections run with
  `secure_delete`, so freed pages are overwritten instead of keeping the old bytes.

A name or street another customer also has does not identify this one and is not searched for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Customer
from supportgraph.domain.text import strip_accents
from supportgraph.runtime.errors import NotSupportedByStore

log = logging.getLogger("supportgraph")
# Where the transcript keeps what customers wrote (sg_steps compressed), and the checkpointer
# its serialised state (msgpack: strings are stored as UTF-8, so searchable as text).
TRANSCRIPT_COLUMNS = (
    ("sg_turns", "record"),
    ("sg_steps", "steps"),
    ("sg_handoffs", "summary"),
    ("sg_thread_meta", "metadata"),
    ("sg_inflight", "payload"),
)
CHECKPOINT_COLUMNS = (
    ("checkpoints", "checkpoint"),
    ("checkpoints", "metadata"),
    ("writes", "value"),
)
# LangGraph's Postgres saver: its tables live in the transcript's database (one pool).
POSTGRES_CHECKPOINT_COLUMNS = (
    ("checkpoints", "checkpoint"),
    ("checkpoints", "metadata"),
    ("checkpoint_blobs", "blob"),
    ("checkpoint_writes", "blob"),
)
PAGE = 500  # rows read per lock hold: a scan never blocks conversations for long
PHONE_RE = re.compile(r"\+?\d(?:[\s().\-/]{0,2}\d){6,}")


def plain(text: str) -> str:
    """Casefolded words without accents or punctuation, space-padded, so a name or street
    matches however it was written: 'Leopoldstraße 8,' -> ' leopoldstrasse 8 '."""
    return " " + " ".join(re.findall(r"\w+", strip_accents(text.casefold()))) + " "


def phone_key(phone: str) -> str | None:
    """The last 9 digits: the same with or without country code, trunk 0 or spaces."""
    digits = re.sub(r"\D", "", phone)
    return digits[-9:] if len(digits) >= 7 else None


def _distinctive(token: str) -> bool:
    """An id worth searching for in free text ('C1001', 'pm-C1001-1'; not '42')."""
    return len(token) >= 4 and any(c.isalpha() for c in token) and any(c.isdigit() for c in token)


@dataclass
class Matcher:
    """Does a text or a decoded JSON value name the customer?"""

    customer_id: str
    emails: re.Pattern[str] | None = None
    tokens: re.Pattern[str] | None = None
    phones: list[str] = field(default_factory=list)  # phone keys
    phrases: list[str] = field(default_factory=list)  # plain() names and street lines

    @classmethod
    def for_customer(cls, identifiers: dict[str, Any], others: Iterable[Customer]) -> Matcher:
        shared: set[str] = set()
        for other in others:
            shared.add(plain(other.name))
            if other.address is not None:
                shared.add(plain(other.address.line1))
        phrases = {
            p for p in map(plain, identifiers["names"]) if len(p.split()) >= 2 and p not in shared
        } | {
            p
            for p in map(plain, identifiers["streets"])
            if len(p.split()) >= 2 and any(c.isdigit() for c in p) and p not in shared
        }
        emails = [e for e in identifiers["emails"] if "@" in e]
        tokens = [t for t in identifiers["tokens"] if _distinctive(t)]
        return cls(
            customer_id=identifiers["customer_id"],
            emails=_alternation(emails, r"(?<![\w.+-])", r"(?![\w-]|\.\w)"),
            tokens=_alternation(tokens, r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"),
            phones=sorted({k for k in map(phone_key, identifiers["phones"]) if k}),
            phrases=sorted(phrases),
        )

    def text(self, text: str) -> bool:
        if self.emails is not None and self.emails.search(text):
            return True
        if self.tokens is not None and self.tokens.search(text):
            return True
        if self.phones and any(c.isdigit() for c in text):
            for match in PHONE_RE.finditer(text):
                digits = re.sub(r"\D", "", match.group())
                if any(key in digits for key in self.phones):
                    return True
        if self.phrases:
            folded = plain(text)
            return any(phrase in folded for phrase in self.phrases)
        return False

    def __call__(self, value: Any) -> bool:
        """A decoded JSON value: any string in it names the customer, or a customer_id is theirs."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if value.get("customer_id") == self.customer_id:
                return True
            return any(self(k) or self(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(self(v) for v in value)
        return False

    def stored(self, data: str | bytes | None) -> bool:
        """A stored column: JSON (decoded first), zlib-compressed JSON, or any other blob
        (searched as text)."""
        if data is None:
            return False
        if isinstance(data, bytes):
            with contextlib.suppress(zlib.error):
                data = zlib.decompress(data)
            data = data.decode("utf-8", "replace")
        try:
            return self(json.loads(data))
        except ValueError:
            return self.text(data)


def _alternation(words: list[str], before: str, after: str) -> re.Pattern[str] | None:
    if not words:
        return None
    body = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(f"{before}(?:{body}){after}", re.IGNORECASE)


@dataclass
class Found:
    """A customer's data outside their store record."""

    matcher: Matcher
    threads: set[str]  # conversations that name them
    own_threads: set[str]  # of those, the ones no other verified customer's
    sandboxes: list[Path]


def privacy_store(agent: Any) -> Any:
    store = agent.store
    if not hasattr(store, "customer_identifiers") or not hasattr(store, "erase_customer"):
        raise NotSupportedByStore(
            f"the {type(store).__name__} backend has no customer export/erase support"
        )
    return store


def sandbox_paths(agent: Any) -> list[Path]:
    """Replay sandboxes: the forks' store copies, each a full copy of the store."""
    folder = agent.settings.resolved_data_dir() / "sandboxes"
    return sorted(folder.glob("*.db")) if folder.is_dir() else []


async def find_customer(agent: Any, customer_id: str) -> Found | None:
    """Where a customer's data is, or None for an unknown customer (nothing is changed)."""
    store = privacy_store(agent)
    identifiers = store.customer_identifiers(customer_id)
    if identifiers is None:
        return None
    sandboxes = sandbox_paths(agent)
    for path in sandboxes:  # a copy as of an earlier moment may hold an earlier address
        copy = SqliteStore(path)
        try:
            for key, values in (copy.customer_identifiers(customer_id) or {}).items():
                if isinstance(values, list):
                    identifiers[key] = sorted({*identifiers[key], *values})
        finally:
            copy.close()
    matcher = Matcher.for_customer(identifiers, store.other_customers(customer_id))
    threads = await threads_naming(agent, matcher)
    threads |= {i["thread_id"] for i in store.customer_interactions(customer_id, matcher)}
    owners = await _thread_customers(agent, threads)
    own = {t for t in threads if owners.get(t) in (None, customer_id)}
    return Found(matcher, threads, own, sandboxes)


async def threads_naming(agent: Any, matcher: Matcher) -> set[str]:
    """Conversations linked to the customer or naming them: in the transcript and in the
    checkpoints (state written without a turn, e.g. update_state, has no transcript)."""
    transcript = agent._transcript
    found = {
        thread_id
        async for thread_id, customer in _scan(transcript, "sg_threads", "customer_id")
        if customer == matcher.customer_id
    }
    sources = [(transcript, table, column) for table, column in TRANSCRIPT_COLUMNS]
    if transcript.dialect == "postgres":
        sources += [(transcript, t, c) for t, c in POSTGRES_CHECKPOINT_COLUMNS]
    else:
        saver = agent._graph.checkpointer
        sources += [(saver, table, column) for table, column in CHECKPOINT_COLUMNS]
    for owner, table, column in sources:
        async for thread_id, value in _scan(owner, table, column):
            if thread_id not in found and matcher.stored(value):
                found.add(thread_id)
    return found


async def _scan(owner: Any, table: str, column: str) -> AsyncIterator[tuple[str, Any]]:
    """(thread_id, column) of every row, a page at a time under the owner's lock (the
    transcript and the checkpointer serialise every use of their connection)."""
    scan = getattr(owner, "scan", None)
    if scan is not None:  # the transcript, on either engine (Transcript.scan)
        async for item in scan(table, column):
            yield item
        return
    conn = owner.conn
    lock = getattr(owner, "lock", None) or contextlib.nullcontext()
    async with lock, conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)) as cur:
        if await cur.fetchone() is None:
            return
    last = 0
    while True:
        async with (
            lock,
            conn.execute(
                f"SELECT rowid, thread_id, {column} FROM {table} WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                (last, PAGE),
            ) as cur,
        ):
            rows = await cur.fetchall()
        for _, thread_id, value in rows:
            yield thread_id, value
        if len(rows) < PAGE:
            return
        last = rows[-1][0]


async def _thread_customers(agent: Any, threads: set[str]) -> dict[str, str | None]:
    return {
        thread_id: customer
        async for thread_id, customer in _scan(agent._transcript, "sg_threads", "customer_id")
        if thread_id in threads
    }


async def export_customer(agent: Any, customer_id: str) -> dict[str, Any] | None:
    """Everything stored about a customer: the store's records (with CRM rows found by their
    identifiers) and the conversations that name them. A conversation verified as another
    customer is not theirs to receive, even if it names them."""
    found = await find_customer(agent, customer_id)
    if found is None:
        return None
    store = privacy_store(agent)
    data = store.customer_data(customer_id, found.matcher, found.own_threads)
    threads = []
    for thread_id in sorted(found.own_threads):
        turns = await agent._transcript.records(thread_id)
        threads.append({"thread_id": thread_id, "turns": [t.model_dump() for t in turns]})
    return {**data, "threads": threads}


async def erase_customer(agent: Any, customer_id: str) -> bool:
    """Erase a customer everywhere (see the module docstring). False for an unknown customer,
    and then nothing changes. The store record goes last, so an erasure that fails midway can
    be run again."""
    found = await find_customer(agent, customer_id)
    if found is None:
        return False
    for thread_id in sorted(found.threads):
        await agent.delete_thread(thread_id)
    for path in found.sandboxes:
        if path.exists():  # a fork's own sandbox went with its thread
            copy = SqliteStore(path)
            try:
                copy.erase_customer(customer_id, found.matcher, found.threads)
                copy.checkpoint_wal()
            finally:
                copy.close()
    store = privacy_store(agent)
    # The store's calls block (sqlite3, psycopg): in a worker thread, off the event loop.
    await asyncio.to_thread(store.erase_customer, customer_id, found.matcher, found.threads)
    truncated = [
        await asyncio.to_thread(store.checkpoint_wal),
        await checkpoint_conversations(agent),
    ]
    if not all(truncated):
        # The erased rows are overwritten in the databases; old WAL frames go at the next
        # checkpoint SQLite runs by itself or at a clean shutdown.
        log.warning("erasure: a write-ahead log could not be truncated (a reader held it)")
    return True


async def checkpoint_conversations(agent: Any, tries: int = 5) -> bool:
    """Truncate the write-ahead log of the conversations database, through every connection
    the agent holds to it (a reader still in a snapshot can make one attempt fail)."""
    saver = agent._graph.checkpointer
    for _ in range(tries):
        done = await agent._transcript.checkpoint_wal()
        conn = getattr(saver, "conn", None)
        if conn is not None and conn is not agent._transcript.conn:
            async with saver.lock, conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                row = await cur.fetchone()
            done = done and row is not None and row[0] == 0
        if done:
            return True
        await asyncio.sleep(0.05)
    return False
