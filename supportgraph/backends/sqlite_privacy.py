"""Export and erasure of one customer's data in the SQLite store (GDPR access and erasure).

A mixin of SqliteStore: the same connection and lock, the same transaction discipline.
`supportgraph.runtime.privacy` drives it across the store, the conversations and the replay
sandboxes; here is only what the store file holds about a customer and how it is removed.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any

from supportgraph.domain.rules import ERASED
from supportgraph.domain.schema import Customer, Order


class SqlitePrivacy:
    """Found here by id and by the rows that hold it; `mentions` (from runtime.privacy) adds
    what identifies the customer in free text (email, phone, name, street) as a predicate over
    decoded JSON values. Rows are matched in Python, never with a LIKE pattern built from an id."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def customer_identifiers(self, customer_id: str) -> dict[str, Any] | None:
        """What identifies a customer in text, as the store knows it now and knew it before
        (before-images and write results keep earlier addresses), or None if unknown."""
        row = self._db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            return None
        order_ids = self._order_ids(customer_id)
        docs: list[dict[str, Any]] = [json.loads(row[0])]
        row_keys = [json.dumps({"id": customer_id})] + [json.dumps({"id": o}) for o in order_ids]
        for chunk in _chunks(row_keys):
            marks = ",".join("?" for _ in chunk)
            for (before,) in self._db.execute(
                f"SELECT before FROM write_undo WHERE tbl IN ('customers', 'orders') "
                f"AND row_key IN ({marks}) AND before IS NOT NULL",
                chunk,
            ):
                docs.append(_decoded_row(before))
        for chunk in _chunks([customer_id, *order_ids]):
            marks = ",".join("?" for _ in chunk)
            for (result,) in self._db.execute(
                f"SELECT result FROM writes WHERE target IN ({marks})", chunk
            ):
                docs.append(json.loads(result))
        for (doc,) in self._db.execute(
            "SELECT doc FROM orders WHERE customer_id = ?", (customer_id,)
        ).fetchall():
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
        """Every other customer (to tell a shared name or street from an identifying one)."""
        cursor = self._db.execute("SELECT doc FROM customers WHERE id != ?", (customer_id,))
        for (doc,) in cursor:
            yield Customer.model_validate_json(doc)

    def _order_ids(self, customer_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def customer_interactions(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        """CRM rows about a customer: linked by id, logged in one of their conversations, or
        (handoffs are logged before or without verification) naming them in the summary."""
        keys = ("id", "customer_id", "thread_id", "kind", "summary", "at")
        rows = self._db.execute(f"SELECT {','.join(keys)} FROM interactions ORDER BY id")
        return [
            dict(zip(keys, r, strict=True))
            for r in rows
            if r[1] == customer_id or r[2] in threads or (mentions is not None and mentions(r[4]))
        ]

    def customer_data(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """Everything the store holds about one customer (for a data export)."""
        row = self._db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            return None
        orders = self._db.execute(
            "SELECT doc FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        return {
            "customer": json.loads(row[0]),
            "orders": [json.loads(r[0]) for r in orders],
            "interactions": [
                {k: i[k] for k in ("customer_id", "thread_id", "kind", "summary")}
                for i in self.customer_interactions(customer_id, mentions, threads)
            ],
            "restock_subscriptions": [
                {"product_id": p, "variant_id": v or None}
                for c, p, v in self._db.execute(
                    "SELECT customer_id, product_id, variant_id FROM restock_subscriptions"
                )
                if c == customer_id
            ],
        }

    def erase_customer(
        self, customer_id: str, mentions: Mentions | None = None, threads: Collection[str] = ()
    ) -> bool:
        """Erase a customer, in one transaction; an unknown customer changes nothing (False).

        Deleted: the profile, restock subscriptions, CRM rows about them (`customer_interactions`)
        and the before-images of every write that touched their rows or names them. Scrubbed:
        the writes log rows that concern them keep their key (a retried write is still answered
        as a replay, never done twice) but their result becomes {"erased": true}. Kept for
        accounting: orders (items, amounts, status, dates), relinked to a random anonymous id
        and stripped of address, payment methods, tracking numbers and free-text extras."""
        concerns = _concerns(customer_id, mentions)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._db.execute(
                    "DELETE FROM customers WHERE id = ?", (customer_id,)
                ).rowcount
                if not found:
                    self._db.execute("ROLLBACK")
                    return False
                order_ids = set(self._order_ids(customer_id))
                anonymous = "erased-" + secrets.token_hex(5)
                for order_id in sorted(order_ids):
                    (doc,) = self._db.execute(
                        "SELECT doc FROM orders WHERE id = ?", (order_id,)
                    ).fetchone()
                    self._db.execute(
                        "UPDATE orders SET customer_id = ?, doc = ? WHERE id = ?",
                        (anonymous, anonymised_order(doc, anonymous), order_id),
                    )
                interactions = self.customer_interactions(customer_id, mentions, threads)
                self._db.executemany(
                    "DELETE FROM interactions WHERE id = ?", [(i["id"],) for i in interactions]
                )
                interaction_keys = {json.dumps({"id": i["id"]}) for i in interactions}
                self._db.execute(
                    "DELETE FROM restock_subscriptions WHERE customer_id = ?", (customer_id,)
                )
                scrubbed = set()
                for key, target, result in self._db.execute(
                    "SELECT key, target, result FROM writes"
                ).fetchall():
                    if (
                        target == customer_id
                        or target in order_ids
                        or target in threads
                        or concerns(json.loads(result))
                    ):
                        scrubbed.add(key)
                        self._db.execute(
                            "UPDATE writes SET target = ?, result = ? WHERE key = ?",
                            (
                                anonymous if target == customer_id else target,
                                json.dumps(ERASED),
                                key,
                            ),
                        )
                # Before-images kept for replay hold the customer's data too. A write is
                # undone whole or not at all, so all of a concerned write's images go.
                undo_keys = set(scrubbed)
                for key, table, row_key, before in self._db.execute(
                    "SELECT key, tbl, row_key, before FROM write_undo"
                ).fetchall():
                    where = json.loads(row_key)
                    if (
                        (table == "customers" and where.get("id") == customer_id)
                        or (table == "orders" and where.get("id") in order_ids)
                        or (table == "interactions" and row_key in interaction_keys)
                        or where.get("customer_id") == customer_id
                        or (before is not None and concerns(_decoded_row(before)))
                    ):
                        undo_keys.add(key)
                self._db.executemany(
                    "DELETE FROM write_undo WHERE key = ?", [(k,) for k in sorted(undo_keys)]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def checkpoint_wal(self) -> bool:
        """Fold the write-ahead log into the database file and truncate it to zero bytes, so
        erased rows do not live on in old WAL frames. False if a reader kept it from finishing."""
        with self._lock:
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0


Mentions = Callable[[Any], bool]
# What an anonymised order keeps (accounting): everything else, including extra fields of the
# open format (notes, billing addresses, cancel reasons in the customer's words), is dropped.
ORDER_KEPT = {"id", "status", "items", "payments", "fulfilments", "created_at", "updated_at"}
ORDER_KEPT |= {"currency", "exchanges"}
ITEM_KEPT = {"product_id", "variant_id", "quantity", "price", "name", "returned"}
PAYMENT_KEPT = {"amount", "status", "at"}  # not method_id: it names the customer's card
FULFILMENT_KEPT = {"carrier", "eta", "shipped_at", "delivered_at"}  # not the tracking number
EXCHANGE_KEPT = {"item_index", "from", "to", "at"}


def anonymised_order(doc: str, anonymous: str) -> str:
    data = json.loads(doc)

    def kept(items: Any, fields: set[str]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in i.items() if k in fields} for i in items or [] if isinstance(i, dict)
        ]

    order = {k: v for k, v in data.items() if k in ORDER_KEPT}
    order["items"] = kept(data.get("items"), ITEM_KEPT)
    order["payments"] = kept(data.get("payments"), PAYMENT_KEPT)
    order["fulfilments"] = kept(data.get("fulfilments"), FULFILMENT_KEPT)
    if "exchanges" in data:
        order["exchanges"] = kept(data["exchanges"], EXCHANGE_KEPT)
    order["customer_id"] = anonymous
    return Order.model_validate(order).model_dump_json()


def _decoded_row(before: str) -> dict[str, Any]:
    """A before-image row, its JSON `doc` column decoded too."""
    row: dict[str, Any] = json.loads(before)
    if isinstance(row.get("doc"), str):
        row["doc"] = json.loads(row["doc"])
    return row


def _concerns(customer_id: str, mentions: Mentions | None) -> Mentions:
    """A decoded JSON value that names the customer: by id under a customer_id key, or as
    `mentions` finds them."""

    def names_id(value: Any) -> bool:
        if isinstance(value, dict):
            return value.get("customer_id") == customer_id or any(
                names_id(v) for v in value.values()
            )
        if isinstance(value, list):
            return any(names_id(v) for v in value)
        return False

    return lambda value: names_id(value) or (mentions is not None and mentions(value))


def _collect_identifiers(value: Any, found: dict[str, set[str]], tokens: set[str]) -> None:
    """Emails, phones, names, street lines and payment method ids in a customer or order
    document, a before-image or a write result."""
    if isinstance(value, list):
        for v in value:
            _collect_identifiers(v, found, tokens)
        return
    if not isinstance(value, dict):
        return
    for key, field in (("email", "emails"), ("phone", "phones"), ("name", "names")):
        if isinstance(value.get(key), str) and value[key] and "product_id" not in value:
            found[field].add(value[key])
    if isinstance(value.get("line1"), str) and value["line1"]:
        found["streets"].add(value["line1"])
    for method in value.get("payment_methods") or []:
        if isinstance(method, dict) and method.get("id"):
            tokens.add(str(method["id"]))
    for key, sub in value.items():
        if key not in ("items", "payments", "fulfilments") and isinstance(sub, dict | list):
            _collect_identifiers(sub, found, tokens)


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
