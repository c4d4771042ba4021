"""Export and erasure of one customer's data in the PostgreSQL store (GDPR access and erasure).

A mixin of PostgresStore: its connections and transactions. The semantics are SQLite's
(`sqlite_privacy.py`, whose pure helpers this reuses): the same identifiers, the same rows
exported, the same anonymised orders. `supportgraph.runtime.privacy` drives it across the
store, the conversations and the replay sandboxes.
"""

from __future__ import annotations

import json
import secrets
from abc import abstractmethod
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from supportgraph.backends.sqlite_privacy import (
    Mentions,
    _collect_identifiers,
    _concerns,
    _decoded_row,
    anonymised_order,
)
from supportgraph.domain.rules import ERASED
from supportgraph.domain.schema import Customer

PAGE = 500  # customers read per query by other_customers: no connection held between pages


class PostgresPrivacy:
    """Found here by id and by the rows that hold it; `mentions` (from runtime.privacy) adds
    what identifies the customer in free text (email, phone, name, street) as a predicate over
    decoded JSON values. Rows are matched in Python, never with a LIKE pattern built from an id."""

    @abstractmethod
    def _conn(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A connection: the current transaction's, else one from the pool."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A transaction that the calls made inside it (`_conn`) join."""

    def customer_identifiers(self, customer_id: str) -> dict[str, Any] | None:
        """What identifies a customer in text, as the store knows it now and knew it before
        (before-images and write results keep earlier addresses), or None if unknown."""
        with self._conn() as conn:
            row = conn.execute("SELECT doc FROM customers WHERE id = %s", (customer_id,)).fetchone()
            if row is None:
                return None
            order_ids = self._order_ids(customer_id)
            docs: list[Any] = [json.loads(row[0])]
            row_keys = [json.dumps({"id": i}) for i in (customer_id, *order_ids)]
            for (before,) in conn.execute(
                "SELECT before FROM write_undo WHERE tbl IN ('customers', 'orders')"
                " AND row_key = ANY(%s) AND before IS NOT NULL",
                (row_keys,),
            ):
                docs.append(_decoded_row(before))
            for (result,) in conn.execute(
                "SELECT result FROM writes WHERE target = ANY(%s)", ([customer_id, *order_ids],)
            ):
                docs.append(json.loads(result))
            for (doc,) in conn.execute(
                "SELECT doc FROM orders WHERE customer_id = %s", (customer_id,)
            ):
                docs.append(json.loads(doc))
        found: dict[str, set[str]] = {k: set() for k in ("emails", "phones", "names", "streets")}
        tokens = {customer_id}
        for doc in docs:
            _collect_identifiers(doc, found, tokens)
        return {
            "customer_id": customer_id,
            **{k: sorted(v) for k, v in found.items()},
            "tokens": sorted(tokens),
            "order_ids": order_ids,
        }

    def other_customers(self, customer_id: str) -> Iterator[Customer]:
        """Every other customer (to tell a shared name or street from an identifying one), a
        page at a time: the caller may take its time between customers."""
        after = ""
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    "SELECT id, doc FROM customers WHERE id != %s AND id > %s ORDER BY id LIMIT %s",
                    (customer_id, after, PAGE),
                ).fetchall()
            for _, doc in rows:
                yield Customer.model_validate_json(doc)
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def _order_ids(self, customer_id: str) -> list[str]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT id FROM orders WHERE customer_id = %s ORDER BY id", (customer_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def customer_interactions(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        """CRM rows about a customer: linked by id, logged in one of their conversations, or
        (handoffs are logged before or without verification) naming them in the summary."""
        keys = ("id", "customer_id", "thread_id", "kind", "summary", "at")
        with self._conn() as conn:
            rows = conn.execute(f"SELECT {', '.join(keys)} FROM interactions ORDER BY id")
            return [
                dict(zip(keys, r, strict=True))
                for r in rows
                if r[1] == customer_id
                or r[2] in threads
                or (mentions is not None and mentions(r[4]))
            ]

    def customer_data(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """Everything the store holds about one customer (for a data export)."""
        with self._conn() as conn:
            row = conn.execute("SELECT doc FROM customers WHERE id = %s", (customer_id,)).fetchone()
            if row is None:
                return None
            orders = conn.execute(
                "SELECT doc FROM orders WHERE customer_id = %s ORDER BY id", (customer_id,)
            ).fetchall()
            subscriptions = conn.execute(
                "SELECT product_id, variant_id FROM restock_subscriptions WHERE customer_id = %s"
                " ORDER BY at, product_id, variant_id",
                (customer_id,),
            ).fetchall()
        return {
            "customer": json.loads(row[0]),
            "orders": [json.loads(r[0]) for r in orders],
            "interactions": [
                {k: i[k] for k in ("customer_id", "thread_id", "kind", "summary")}
                for i in self.customer_interactions(customer_id, mentions, threads)
            ],
            "restock_subscriptions": [
                {"product_id": p, "variant_id": v or None} for p, v in subscriptions
            ],
        }

    def erase_customer(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> bool:
        """Erase a customer, in one transaction; an unknown customer changes nothing (False).

        As SqlitePrivacy.erase_customer: the profile, restock subscriptions, CRM rows about
        them and the before-images of every write that touched their rows or names them are
        deleted; the writes log rows that concern them keep their key but their result becomes
        {"erased": true}; orders are kept for accounting, relinked to a random anonymous id and
        stripped of address, payment methods, tracking numbers and free-text extras."""
        concerns = _concerns(customer_id, mentions)
        with self._transaction() as conn:
            # Every write claims its key in `writes` first: while the erasure holds this lock
            # no write runs, so none can add a row about the customer behind the scans below
            # (SQLite gets the same from BEGIN IMMEDIATE). Reads go on.
            conn.execute("LOCK TABLE writes IN SHARE ROW EXCLUSIVE MODE")
            if not conn.execute("DELETE FROM customers WHERE id = %s", (customer_id,)).rowcount:
                return False
            anonymous = "erased-" + secrets.token_hex(5)
            orders = conn.execute(
                "SELECT id, doc FROM orders WHERE customer_id = %s ORDER BY id FOR UPDATE",
                (customer_id,),
            ).fetchall()
            order_ids = {order_id for order_id, _ in orders}
            with conn.cursor() as cursor:
                cursor.executemany(
                    "UPDATE orders SET customer_id = %s, doc = %s WHERE id = %s",
                    [(anonymous, anonymised_order(doc, anonymous), oid) for oid, doc in orders],
                )
            interactions = self.customer_interactions(customer_id, mentions, threads)
            conn.execute(
                "DELETE FROM interactions WHERE id = ANY(%s)", ([i["id"] for i in interactions],)
            )
            interaction_keys = {json.dumps({"id": i["id"]}) for i in interactions}
            conn.execute("DELETE FROM restock_subscriptions WHERE customer_id = %s", (customer_id,))
            scrubbed: dict[str, str | None] = {}  # key -> the target it keeps
            for key, target, result in conn.execute("SELECT key, target, result FROM writes"):
                if (
                    target == customer_id
                    or target in order_ids
                    or target in threads
                    or concerns(json.loads(result))
                ):
                    scrubbed[key] = anonymous if target == customer_id else target
            with conn.cursor() as cursor:
                cursor.executemany(
                    "UPDATE writes SET target = %s, result = %s WHERE key = %s",
                    [(target, json.dumps(ERASED), key) for key, target in scrubbed.items()],
                )
            # Before-images kept for replay hold the customer's data too. A write is undone
            # whole or not at all, so all of a concerned write's images go.
            undo_keys = set(scrubbed)
            for key, table, row_key, before in conn.execute(
                "SELECT key, tbl, row_key, before FROM write_undo"
            ):
                where = json.loads(row_key)
                if (
                    (table == "customers" and where.get("id") == customer_id)
                    or (table == "orders" and where.get("id") in order_ids)
                    or (table == "interactions" and row_key in interaction_keys)
                    or where.get("customer_id") == customer_id
                    or (before is not None and concerns(_decoded_row(before)))
                ):
                    undo_keys.add(key)
            conn.execute("DELETE FROM write_undo WHERE key = ANY(%s)", (sorted(undo_keys),))
        return True

    def checkpoint_wal(self) -> bool:
        """SQLite's store truncates its write-ahead log here so erased rows do not live on in
        old frames. PostgreSQL's WAL and dead row versions belong to the server (recycled at
        its checkpoints, vacuumed by autovacuum): nothing the store can truncate, and nothing
        left for it to do (docs: erased bytes live on in free space until Postgres reuses it)."""
        return True
