"""The SQLite store: customers, products and orders as validated JSON documents.

Documents keep the open shape of the store format (options, extra fields) while the
columns we search on (email, zip, customer, status) are indexed. Its own database file,
separate from the checkpoints, so a store can be reset or replaced without touching
conversations.

What a write may do is decided by the pure rules of `supportgraph.domain.rules`; this module
does the SQL around them: one transaction per write, the idempotency log (`writes`) and the
undo log (`write_undo`) that lets replay copy the store as it was. Export and erasure of a
customer's data are in `sqlite_privacy.py`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportgraph.backends.base import P, RuleStore, T
from supportgraph.backends.protocols import WriteResult
from supportgraph.backends.sqlite_privacy import SqlitePrivacy
from supportgraph.domain import rules
from supportgraph.domain.lookup import (
    LOOKUP_KEYS_VERSION,
    email_key,
    name_key,
    postcode_key,
    reference_key,
    zip_of,
)
from supportgraph.domain.rules import Effect, Record
from supportgraph.domain.schema import (
    STORE_SCHEMA_VERSION,
    Customer,
    Order,
    Product,
    Store,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, email TEXT, name_norm TEXT, zip TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_email ON customers(email);
CREATE INDEX IF NOT EXISTS customers_name_zip ON customers(name_norm, zip);
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT, type TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id);
-- An order found whatever way it is typed: reference_key(id) -> id (domain/lookup.py).
CREATE TABLE IF NOT EXISTS order_keys (key TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_keys_key ON order_keys(key);
CREATE TABLE IF NOT EXISTS writes (
    key TEXT PRIMARY KEY, action TEXT NOT NULL, target TEXT, result TEXT NOT NULL,
    at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS restock_subscriptions (
    customer_id TEXT NOT NULL, product_id TEXT NOT NULL, variant_id TEXT, at REAL NOT NULL,
    PRIMARY KEY (customer_id, product_id, variant_id));
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT, thread_id TEXT NOT NULL,
    kind TEXT NOT NULL, summary TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS write_undo (
    key TEXT NOT NULL, seq INTEGER NOT NULL, tbl TEXT NOT NULL, row_key TEXT NOT NULL,
    before TEXT, PRIMARY KEY (key, seq));
"""
# Tables a write may change, and so the only ones an undo entry may name.
UNDOABLE = {"orders", "customers", "products", "interactions", "restock_subscriptions"}


class SqliteStore(RuleStore, SqlitePrivacy):
    """Implements StoreBackend (CRM, orders, inventory) over one SQLite file."""

    blocking_io = True  # sqlite3 calls run in a worker thread (RuleStore._io)

    async def _io(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        def locked() -> T:
            with self._lock:
                return call(*args, **kwargs)

        return await asyncio.to_thread(locked)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by worker threads (RuleStore._io): each call holds the lock, so
        # a read never runs inside another thread's write transaction.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten (erasure)
        self._db.executescript(SCHEMA)
        self._index_order_keys()
        self._rekey_customers()
        self._undo_key: str | None = None  # the write whose before-images are being kept

    def close(self) -> None:
        self._db.close()

    # -- loading ------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self._db.execute("SELECT count(*) FROM customers").fetchone()[0] == 0 and (
            self._db.execute("SELECT count(*) FROM products").fetchone()[0] == 0
        )

    def replace_all(self, store: Store) -> None:
        """Import a validated store in one transaction: all of it or nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # A new store invalidates old idempotency keys and CRM rows: a replayed key
                # must never claim a write that this store never saw.
                for table in (
                    "customers",
                    "products",
                    "orders",
                    "order_keys",
                    "writes",
                    "write_undo",
                    "interactions",
                    "restock_subscriptions",
                ):
                    self._db.execute(f"DELETE FROM {table}")
                self._db.executemany(
                    "INSERT INTO customers VALUES (?,?,?,?,?)",
                    [_customer_row(c) for c in store.customers],
                )
                self._db.executemany(
                    "INSERT INTO products VALUES (?,?,?,?)",
                    [(p.id, p.name, p.type, p.model_dump_json()) for p in store.products],
                )
                self._db.executemany(
                    "INSERT INTO orders VALUES (?,?,?,?)",
                    [(o.id, o.customer_id, o.status, o.model_dump_json()) for o in store.orders],
                )
                self._db.executemany(
                    "INSERT INTO order_keys VALUES (?,?)",
                    [(reference_key(o.id), o.id) for o in store.orders],
                )
                meta = {
                    "schema_version": str(STORE_SCHEMA_VERSION),
                    "lookup_keys": str(LOOKUP_KEYS_VERSION),
                    "currency": store.currency,
                    "loaded_at": str(time.time()),
                }
                if store.name:
                    meta["name"] = store.name
                self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", list(meta.items()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def export(self) -> Store:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        return Store(
            name=meta.get("name"),
            currency=meta.get("currency", "EUR"),
            customers=[Customer.model_validate_json(r[0]) for r in self._rows("customers")],
            products=[Product.model_validate_json(r[0]) for r in self._rows("products")],
            orders=[Order.model_validate_json(r[0]) for r in self._rows("orders")],
        )

    def currency(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key='currency'").fetchone()
        return row[0] if row else "EUR"

    def _rows(self, table: str) -> list[tuple[str]]:
        return self._db.execute(f"SELECT doc FROM {table} ORDER BY id").fetchall()

    # -- CRM ----------------------------------------------------------------------------

    async def find_customer_by_email(self, email: str) -> Customer | None:
        return await self._io(self._customer_where, "email = ?", (email_key(email.strip()),))

    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None:
        keys = (name_key(name), postcode_key(zip_code))
        return await self._io(self._customer_where, "name_norm = ? AND zip = ?", keys)

    def _customer_where(self, where: str, params: tuple[str | None, ...]) -> Customer | None:
        row = self._db.execute(f"SELECT doc FROM customers WHERE {where}", params).fetchone()
        return Customer.model_validate_json(row[0]) if row else None

    # -- orders -------------------------------------------------------------------------

    async def list_orders(self, customer_id: str) -> list[Order]:
        return await self._io(self._orders_of, customer_id)

    def _orders_of(self, customer_id: str) -> list[Order]:
        rows = self._db.execute(
            "SELECT doc FROM orders WHERE customer_id = ? ORDER BY id DESC", (customer_id,)
        ).fetchall()
        return [Order.model_validate_json(r[0]) for r in rows]

    # -- inventory ----------------------------------------------------------------------

    async def list_products(self) -> list[Product]:
        return await self._io(self.all_products)

    def all_products(self) -> list[Product]:
        return [Product.model_validate_json(r[0]) for r in self._rows("products")]

    # -- writes -------------------------------------------------------------------------
    # Each write runs in one IMMEDIATE transaction (no lost updates between conversations
    # or processes) and is recorded under its idempotency key: a retry returns the first
    # result instead of writing again. The rule decides; `_save` stores its effect.

    def _write(
        self, key: str, action: str, target: str, change: Callable[[], WriteResult]
    ) -> WriteResult:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT action, target, result FROM writes WHERE key = ?", (key,)
                ).fetchone()
                if row:
                    result = rules.replayed(
                        key, action, target, (row[0], row[1], json.loads(row[2]))
                    )
                    self._db.execute("COMMIT")
                    return result
                self._undo_key = key
                result = change()
                self._db.execute(
                    "INSERT INTO writes VALUES (?,?,?,?,?)",
                    (key, action, target, json.dumps(result), time.time()),
                )
                self._db.execute("COMMIT")
                return result
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._undo_key = None

    def _apply(self, key: str, action: str, target: str, rule: Callable[[], Effect]) -> WriteResult:
        def change() -> WriteResult:
            effect = rule()
            self._save(effect)
            return effect.result

        return self._write(key, action, target, change)

    def _save(self, effect: Effect) -> None:
        """Store what a rule changed, keeping each row's before-image for the undo log."""
        for record in effect.saved:
            self._save_record(record)
        if effect.interaction is not None:
            i = effect.interaction
            cursor = self._db.execute(
                "INSERT INTO interactions (customer_id, thread_id, kind, summary, at)"
                " VALUES (?,?,?,?,?)",
                (i.customer_id, i.thread_id, i.kind, i.summary, time.time()),
            )
            self._keep_inserted("interactions", {"id": cursor.lastrowid})
        if effect.restock is not None:
            customer_id, product_id, variant_id = effect.restock
            self._keep_before(
                "restock_subscriptions",
                {"customer_id": customer_id, "product_id": product_id, "variant_id": variant_id},
            )
            self._db.execute(
                "INSERT OR IGNORE INTO restock_subscriptions VALUES (?,?,?,?)",
                (*effect.restock, time.time()),
            )

    def _save_record(self, record: Record) -> None:
        if isinstance(record, Order):
            self._keep_before("orders", {"id": record.id})
            self._db.execute(
                "UPDATE orders SET status = ?, doc = ? WHERE id = ?",
                (record.status, record.model_dump_json(), record.id),
            )
        elif isinstance(record, Product):
            self._keep_before("products", {"id": record.id})
            self._db.execute(
                "UPDATE products SET doc = ? WHERE id = ?", (record.model_dump_json(), record.id)
            )
        else:
            self._keep_before("customers", {"id": record.id})
            self._db.execute(
                "UPDATE customers SET email = ?, name_norm = ?, zip = ?, doc = ? WHERE id = ?",
                (*_customer_row(record)[1:], record.id),
            )

    # Records, as the rules read them (inside the write's transaction).

    def order(self, order_id: str) -> Order | None:
        row = self._db.execute("SELECT doc FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            row = self._db.execute(
                "SELECT o.doc FROM order_keys k JOIN orders o ON o.id = k.id WHERE k.key = ?"
                " ORDER BY o.id LIMIT 1",
                (reference_key(order_id),),
            ).fetchone()
        return Order.model_validate_json(row[0]) if row else None

    def _index_order_keys(self) -> None:
        """A store file loaded before order_keys existed gets its index once, at open."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM order_keys LIMIT 1").fetchone():
                return
            ids = [r[0] for r in self._db.execute("SELECT id FROM orders").fetchall()]
            if ids:
                self._db.executemany(
                    "INSERT INTO order_keys VALUES (?,?)", [(reference_key(i), i) for i in ids]
                )

    def _rekey_customers(self) -> None:
        """A file whose customer lookup keys an older name_key/postcode_key wrote gets them
        recomputed from the documents once, at open: "王 小明" saved before CJK names dropped
        their spaces is still found as "王小明"."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key='lookup_keys'").fetchone()
            if row and row[0] == str(LOOKUP_KEYS_VERSION):
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = [
                    _customer_row(Customer.model_validate_json(r[0]))
                    for r in self._rows("customers")
                ]
                self._db.executemany(
                    "UPDATE customers SET email = ?, name_norm = ?, zip = ? WHERE id = ?",
                    [(email, name, zip_code, cid) for cid, email, name, zip_code, _ in rows],
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('lookup_keys', ?)",
                    (str(LOOKUP_KEYS_VERSION),),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def product(self, product_id: str) -> Product | None:
        row = self._db.execute("SELECT doc FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.model_validate_json(row[0]) if row else None

    def customer(self, customer_id: str) -> Customer | None:
        row = self._db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return Customer.model_validate_json(row[0]) if row else None

    def _keep_before(self, table: str, where: dict[str, Any]) -> None:
        """Keep the row as it was before the current write changes it (None: it did not
        exist), so a copy of the store can be turned back to any earlier moment (replay)."""
        if self._undo_key is None:
            return
        clause = " AND ".join(f"{column} = ?" for column in where)
        cursor = self._db.execute(f"SELECT * FROM {table} WHERE {clause}", tuple(where.values()))
        row = cursor.fetchone()
        before = (
            None
            if row is None
            else json.dumps(dict(zip([d[0] for d in cursor.description], row, strict=True)))
        )
        self._log_undo(table, where, before)

    def _keep_inserted(self, table: str, where: dict[str, Any]) -> None:
        """A row the current write added: undoing the write deletes it."""
        if self._undo_key is not None:
            self._log_undo(table, where, None)

    def _log_undo(self, table: str, where: dict[str, Any], before: str | None) -> None:
        self._db.execute(
            "INSERT INTO write_undo VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM write_undo"
            " WHERE key = ?), ?, ?, ?)",
            (self._undo_key, self._undo_key, table, json.dumps(where), before),
        )

    def copy_as_of(self, moment: float, dest: Path) -> CopyReport:
        """A copy of this store at `dest` as it was at `moment` (epoch seconds): the writes
        made since are undone in the copy, newest first. The live store is only read."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest)
        with self._lock:
            self._db.backup(target)
        target.close()
        copy = SqliteStore(dest)
        report = copy._undo_since(moment)
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        report.reloaded_after = float(meta.get("loaded_at") or 0) > moment
        copy.close()
        return report

    def _undo_since(self, moment: float) -> CopyReport:
        report = CopyReport()
        self._db.execute("BEGIN IMMEDIATE")
        keys = self._db.execute(
            "SELECT key FROM writes WHERE at >= ? ORDER BY at DESC", (moment,)
        ).fetchall()
        for (key,) in keys:
            entries = self._db.execute(
                "SELECT tbl, row_key, before FROM write_undo WHERE key = ? ORDER BY seq DESC",
                (key,),
            ).fetchall()
            if not entries:
                report.not_undoable += 1  # written before undo entries were kept
            for table, row_key, before in entries:
                if table not in UNDOABLE:
                    raise ValueError(f"undo entry for unknown table {table!r}")
                where = json.loads(row_key)
                clause = " AND ".join(f"{column} = ?" for column in where)
                self._db.execute(f"DELETE FROM {table} WHERE {clause}", tuple(where.values()))
                if before is not None:
                    row = json.loads(before)
                    marks = ",".join("?" for _ in row)
                    self._db.execute(
                        f"INSERT INTO {table} ({','.join(row)}) VALUES ({marks})",
                        tuple(row.values()),
                    )
            self._db.execute("DELETE FROM write_undo WHERE key = ?", (key,))
            self._db.execute("DELETE FROM writes WHERE key = ?", (key,))
            report.undone += 1
        self._db.execute("COMMIT")
        return report

    async def write_applied(self, key: str) -> bool:
        return await self._io(self._has_write, key)

    def _has_write(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM writes WHERE key = ?", (key,)).fetchone() is not None

    def writes_log(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT key, action, target, result FROM writes ORDER BY at"
        ).fetchall()
        return [
            {"key": k, "action": a, "target": t, "result": json.loads(r)} for k, a, t, r in rows
        ]

    def interactions(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT customer_id, thread_id, kind, summary FROM interactions"
            + (" WHERE customer_id = ?" if customer_id else "")
            + " ORDER BY id",
            (customer_id,) if customer_id else (),
        ).fetchall()
        return [
            dict(zip(("customer_id", "thread_id", "kind", "summary"), r, strict=True)) for r in rows
        ]

    def restock_subscriptions(self) -> list[tuple[str, str, str]]:
        return self._db.execute(
            "SELECT customer_id, product_id, variant_id FROM restock_subscriptions"
        ).fetchall()


def _customer_row(customer: Customer) -> tuple[str, str | None, str, str | None, str]:
    """A customer as its row: id, then the columns it is looked up by, then the document."""
    return (
        customer.id,
        email_key(customer.email),
        name_key(customer.name),
        postcode_key(zip_of(customer)),
        customer.model_dump_json(),
    )


@dataclass
class CopyReport:
    undone: int = 0  # writes made after the moment, undone in the copy
    not_undoable: int = 0  # of those, writes older than the undo log: left as they are
    reloaded_after: bool = False  # the store was replaced (`store load`) after the moment
