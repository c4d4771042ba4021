"""The SQLite store: customers, products and orders as validated JSON documents.

Documents keep the open shape of the store format (options, extra fields) while the
columns we search on (email, zip, customer, status) are indexed. Its own database file,
separate from the checkpoints, so a store can be reset or replaced without touching
conversations.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from supportgraph.backends.protocols import WriteRefused, WriteResult
from supportgraph.domain.schema import (
    STORE_SCHEMA_VERSION,
    Address,
    Customer,
    Order,
    Payment,
    Product,
    Store,
    Variant,
)
from supportgraph.nlu.text import normalize

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


def canonical_order_ids(raw: str) -> list[str]:
    """Spellings a customer may use for one order id: 'sg10234', '#SG-10234', 'SG 10234'."""
    text = raw.strip().lstrip("#").upper()
    candidates = [text, text.replace(" ", "-")]
    letters = "".join(c for c in text if c.isalpha())
    digits = "".join(c for c in text if c.isdigit())
    if letters and digits:
        candidates += [f"{letters}-{digits}", f"{letters}{digits}"]
    elif digits:
        candidates.append(digits)
    return list(dict.fromkeys(candidates))


class SqliteStore:
    """Implements CrmBackend, OrderBackend and InventoryBackend over one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten (erasure)
        self._db.executescript(SCHEMA)
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
                    "writes",
                    "write_undo",
                    "interactions",
                    "restock_subscriptions",
                ):
                    self._db.execute(f"DELETE FROM {table}")
                self._db.executemany(
                    "INSERT INTO customers VALUES (?,?,?,?,?)",
                    [
                        (
                            c.id,
                            (c.email or "").lower() or None,
                            normalize(c.name),
                            c.zip or (c.address.zip if c.address else None),
                            c.model_dump_json(),
                        )
                        for c in store.customers
                    ],
                )
                self._db.executemany(
                    "INSERT INTO products VALUES (?,?,?,?)",
                    [(p.id, p.name, p.type, p.model_dump_json()) for p in store.products],
                )
                self._db.executemany(
                    "INSERT INTO orders VALUES (?,?,?,?)",
                    [(o.id, o.customer_id, o.status, o.model_dump_json()) for o in store.orders],
                )
                meta = {
                    "schema_version": str(STORE_SCHEMA_VERSION),
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
        row = self._db.execute(
            "SELECT doc FROM customers WHERE email = ?", (email.strip().lower(),)
        ).fetchone()
        return Customer.model_validate_json(row[0]) if row else None

    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None:
        row = self._db.execute(
            "SELECT doc FROM customers WHERE name_norm = ? AND zip = ?",
            (normalize(name), zip_code.strip()),
        ).fetchone()
        return Customer.model_validate_json(row[0]) if row else None

    async def get_customer(self, customer_id: str) -> Customer | None:
        row = self._db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return Customer.model_validate_json(row[0]) if row else None

    # -- orders -------------------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        for candidate in canonical_order_ids(order_id):
            row = self._db.execute("SELECT doc FROM orders WHERE id = ?", (candidate,)).fetchone()
            if row:
                return Order.model_validate_json(row[0])
        return None

    async def list_orders(self, customer_id: str) -> list[Order]:
        rows = self._db.execute(
            "SELECT doc FROM orders WHERE customer_id = ? ORDER BY id DESC", (customer_id,)
        ).fetchall()
        return [Order.model_validate_json(r[0]) for r in rows]

    # -- inventory ----------------------------------------------------------------------

    async def get_product(self, product_id: str) -> Product | None:
        row = self._db.execute("SELECT doc FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.model_validate_json(row[0]) if row else None

    async def list_products(self) -> list[Product]:
        return self.all_products()

    def all_products(self) -> list[Product]:
        return [Product.model_validate_json(r[0]) for r in self._rows("products")]

    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]:
        """Variants matching the given options, each with whether it can be bought now."""
        product = await self.get_product(product_id)
        if product is None:
            return []
        return matching_variants(product, options)

    # -- writes -------------------------------------------------------------------------
    # Each write runs in one IMMEDIATE transaction (no lost updates between conversations
    # or processes) and is recorded under its idempotency key: a retry returns the first
    # result instead of writing again.

    def _write(
        self, key: str, action: str, target: str, change: Callable[[], WriteResult]
    ) -> WriteResult:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT result, action, target FROM writes WHERE key = ?", (key,)
                ).fetchone()
                if row:
                    # An erased customer's write keeps its key but not its target: a retry
                    # of the same action is still a replay.
                    erased = json.loads(row[0]) == ERASED
                    if row[1] != action or (row[2] != target and not erased):
                        raise WriteRefused(
                            "key_reused", f"key {key} was used for {row[1]} {row[2]}"
                        )
                    self._db.execute("COMMIT")
                    return {**json.loads(row[0]), "replayed": True}
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
        return self._db.execute("SELECT 1 FROM writes WHERE key = ?", (key,)).fetchone() is not None

    def writes_log(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT key, action, target, result FROM writes ORDER BY at"
        ).fetchall()
        return [
            {"key": k, "action": a, "target": t, "result": json.loads(r)} for k, a, t, r in rows
        ]

    def _order_for_update(self, order_id: str, allowed: tuple[str, ...]) -> Order:
        row = None
        for candidate in canonical_order_ids(order_id):
            row = self._db.execute("SELECT doc FROM orders WHERE id = ?", (candidate,)).fetchone()
            if row:
                break
        if not row:
            raise WriteRefused("not_found", f"order {order_id} not found")
        order = Order.model_validate_json(row[0])
        if order.status not in allowed:
            raise WriteRefused("not_eligible", f"order {order_id} is {order.status}")
        return order

    def _save_order(self, order: Order) -> None:
        self._keep_before("orders", {"id": order.id})
        self._db.execute(
            "UPDATE orders SET status = ?, doc = ? WHERE id = ?",
            (order.status, order.model_dump_json(), order.id),
        )

    def _product_for_update(self, product_id: str) -> Product:
        row = self._db.execute("SELECT doc FROM products WHERE id = ?", (product_id,)).fetchone()
        if not row:
            raise WriteRefused("not_found", f"product {product_id} not found")
        return Product.model_validate_json(row[0])

    def _move_stock(self, product_id: str, take: str, give_back: str | None) -> None:
        """Reserve one unit of variant `take` (refused when out of stock), release `give_back`."""
        product = self._product_for_update(product_id)
        variants = {v.id: v for v in product.variants}
        wanted = variants.get(take)
        if wanted is None:
            raise WriteRefused("unknown_variant", f"{take} is not a variant of {product_id}")
        if not variant_in_stock(wanted):
            raise WriteRefused("out_of_stock", f"{take} is out of stock")
        if wanted.stock is not None:
            wanted.stock -= 1
        if give_back and give_back in variants and variants[give_back].stock is not None:
            variants[give_back].stock = (variants[give_back].stock or 0) + 1
        self._keep_before("products", {"id": product.id})
        self._db.execute(
            "UPDATE products SET doc = ? WHERE id = ?", (product.model_dump_json(), product.id)
        )

    def _customer_for_update(self, customer_id: str) -> Customer:
        row = self._db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if not row:
            raise WriteRefused("not_found", f"customer {customer_id} not found")
        return Customer.model_validate_json(row[0])

    def _save_customer(self, customer: Customer) -> None:
        self._keep_before("customers", {"id": customer.id})
        self._db.execute(
            "UPDATE customers SET email = ?, name_norm = ?, zip = ?, doc = ? WHERE id = ?",
            (
                (customer.email or "").lower() or None,
                normalize(customer.name),
                customer.zip or (customer.address.zip if customer.address else None),
                customer.model_dump_json(),
                customer.id,
            ),
        )

    async def cancel_order(self, order_id: str, reason: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            order.status = "cancelled"
            paid = sum(p.amount for p in order.payments if p.status in ("paid", "authorized"))
            if paid:
                order.payments.append(Payment(amount=-paid, status="refunded", at=_now_iso()))
            order.updated_at = _now_iso()
            setattr(order, "cancel_reason", reason)  # noqa: B010 - extra field of the open format
            self._save_order(order)
            return {"order_id": order.id, "status": "cancelled", "refund": round(paid, 2)}

        return self._write(key, "cancel_order", order_id, change)

    async def modify_order_address(self, order_id: str, address: Address, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            order.shipping_address = address
            order.updated_at = _now_iso()
            self._save_order(order)
            return {"order_id": order.id, "shipping_address": address.model_dump(exclude_none=True)}

        return self._write(key, "modify_order_address", order_id, change)

    async def modify_order_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            item = _item(order, item_index)
            self._move_stock(item.product_id, variant_id, item.variant_id)
            old = item.variant_id
            item.variant_id = variant_id
            order.updated_at = _now_iso()
            self._save_order(order)
            return {"order_id": order.id, "item_index": item_index, "from": old, "to": variant_id}

        return self._write(key, "modify_order_item", order_id, change)

    async def modify_order_payment(self, order_id: str, method_id: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            customer = self._customer_for_update(order.customer_id)
            if method_id not in {m.id for m in customer.payment_methods}:
                raise WriteRefused(
                    "unknown_method", f"{method_id} is not a payment method of the customer"
                )
            for payment in order.payments:
                if payment.status in ("pending", "failed", "authorized"):
                    payment.method_id = method_id
            if not order.payments:
                order.payments.append(
                    Payment(amount=_total(order), status="pending", method_id=method_id)
                )
            order.updated_at = _now_iso()
            self._save_order(order)
            return {"order_id": order.id, "method_id": method_id}

        return self._write(key, "modify_order_payment", order_id, change)

    async def return_items(
        self, order_id: str, item_indexes: list[int], refund_method: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("delivered",))
            if refund_method not in ("original", "store_credit"):
                raise WriteRefused("bad_refund_method", refund_method)
            if not item_indexes:
                raise WriteRefused("unknown_item", f"no items of order {order_id} to return")
            amount = 0.0
            for index in item_indexes:
                item = _item(order, index)
                if getattr(item, "returned", False):
                    raise WriteRefused("already_returned", f"item {index} was already returned")
                setattr(item, "returned", True)  # noqa: B010 - extra field of the open format
                amount += (item.price or 0.0) * item.quantity
            amount = round(amount, 2)
            if all(getattr(i, "returned", False) for i in order.items):
                order.status = "returned"
            if refund_method == "original":
                method = next((p.method_id for p in order.payments if p.status == "paid"), None)
                order.payments.append(
                    Payment(amount=-amount, status="refunded", method_id=method, at=_now_iso())
                )
            else:
                customer = self._customer_for_update(order.customer_id)
                credit = float(getattr(customer, "store_credit", 0.0) or 0.0) + amount
                setattr(customer, "store_credit", round(credit, 2))  # noqa: B010
                self._save_customer(customer)
            order.updated_at = _now_iso()
            self._save_order(order)
            return {
                "order_id": order.id,
                "items": item_indexes,
                "refund": amount,
                "refund_method": refund_method,
                "status": order.status,
            }

        return self._write(key, "return_items", order_id, change)

    async def exchange_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("delivered",))
            item = _item(order, item_index)
            if getattr(item, "returned", False):
                raise WriteRefused("already_returned", f"item {item_index} was already returned")
            if item.variant_id == variant_id:
                raise WriteRefused("unknown_variant", f"item {item_index} already is {variant_id}")
            # The replacement ships from stock; the returned original goes back into stock.
            self._move_stock(item.product_id, variant_id, item.variant_id)
            previous = item.variant_id
            item.variant_id = variant_id
            exchanges = list(getattr(order, "exchanges", None) or [])
            exchanges.append(
                {"item_index": item_index, "from": previous, "to": variant_id, "at": _now_iso()}
            )
            setattr(order, "exchanges", exchanges)  # noqa: B010 - extra field of the open format
            order.updated_at = _now_iso()
            self._save_order(order)
            return {
                "order_id": order.id,
                "item_index": item_index,
                "from": previous,
                "to": variant_id,
            }

        return self._write(key, "exchange_item", order_id, change)

    async def retry_payment(self, order_id: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            if not order.payments or order.payments[-1].status != "failed":
                raise WriteRefused("nothing_to_retry", f"order {order_id} has no failed payment")
            last = order.payments[-1]
            order.payments.append(
                Payment(
                    amount=last.amount, status="authorized", method_id=last.method_id, at=_now_iso()
                )
            )
            order.updated_at = _now_iso()
            self._save_order(order)
            return {"order_id": order.id, "payment_status": "authorized", "amount": last.amount}

        return self._write(key, "retry_payment", order_id, change)

    async def update_customer_address(
        self, customer_id: str, address: Address, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            customer = self._customer_for_update(customer_id)
            customer.address = address
            if address.zip:
                customer.zip = address.zip
            self._save_customer(customer)
            return {"customer_id": customer_id, "address": address.model_dump(exclude_none=True)}

        return self._write(key, "update_customer_address", customer_id, change)

    async def update_preferences(
        self, customer_id: str, preferences: dict[str, str], key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            customer = self._customer_for_update(customer_id)
            customer.preferences = {**customer.preferences, **preferences}
            self._save_customer(customer)
            return {"customer_id": customer_id, "preferences": customer.preferences}

        return self._write(key, "update_preferences", customer_id, change)

    async def record_interaction(
        self, customer_id: str | None, thread_id: str, kind: str, summary: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            cursor = self._db.execute(
                "INSERT INTO interactions (customer_id, thread_id, kind, summary, at) VALUES (?,?,?,?,?)",
                (customer_id, thread_id, kind, summary[:2000], time.time()),
            )
            self._keep_inserted("interactions", {"id": cursor.lastrowid})
            return {"recorded": kind}

        return self._write(key, "record_interaction", thread_id, change)

    async def subscribe_restock(
        self, customer_id: str, product_id: str, variant_id: str | None, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            self._keep_before(
                "restock_subscriptions",
                {
                    "customer_id": customer_id,
                    "product_id": product_id,
                    "variant_id": variant_id or "",
                },
            )
            self._db.execute(
                "INSERT OR IGNORE INTO restock_subscriptions VALUES (?,?,?,?)",
                (customer_id, product_id, variant_id or "", time.time()),
            )
            return {"customer_id": customer_id, "product_id": product_id, "variant_id": variant_id}

        return self._write(key, "subscribe_restock", product_id, change)

    # -- privacy ----------------------------------------------------------------------------
    # Found here by id and by the rows that hold it; `mentions` (from supportgraph.runtime.privacy) adds
    # what identifies the customer in free text (email, phone, name, street) as a predicate over
    # decoded JSON values. Rows are matched in Python, never with a LIKE pattern built from an id.

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
                for c, p, v in self.restock_subscriptions()
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


ERASED = {"erased": True}  # the result of a logged write whose customer was erased
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


@dataclass
class CopyReport:
    undone: int = 0  # writes made after the moment, undone in the copy
    not_undoable: int = 0  # of those, writes older than the undo log: left as they are
    reloaded_after: bool = False  # the store was replaced (`store load`) after the moment


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def _item(order: Order, index: int) -> Any:
    if not 0 <= index < len(order.items):
        raise WriteRefused("unknown_item", f"order {order.id} has no item {index}")
    return order.items[index]


def _total(order: Order) -> float:
    return round(sum((i.price or 0.0) * i.quantity for i in order.items), 2)


def matching_variants(product: Product, options: dict[str, str]) -> list[tuple[Variant, bool]]:
    """Variants with the given options (case/accent-insensitive), each with availability."""
    wanted = {k: normalize(str(v)) for k, v in options.items() if v}
    matches = []
    for variant in product.variants:
        opts = {k: normalize(str(v)) for k, v in variant.options.items()}
        if all(opts.get(k) == v for k, v in wanted.items() if k in opts):
            matches.append((variant, variant_in_stock(variant)))
    return matches


def variant_in_stock(variant: Variant) -> bool:
    if variant.stock is not None:
        return variant.stock > 0
    return bool(variant.available)


class StoreFileError(ValueError):
    """A store file that does not validate: every problem names the record and the field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: invalid store, nothing imported\n" + "\n".join(problems))
        self.problems = problems


def describe_errors(data: Any, errors: list[Any]) -> list[str]:
    """'orders[3] (id "SG-1"): status: Input should be ...' from pydantic's error locations."""
    problems = []
    for err in errors[:20]:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data, dict):
            records = data.get(str(loc[0])) or []
            record = records[loc[1]] if loc[1] < len(records) else {}
            rid = record.get("id") if isinstance(record, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(record)"
            where = f"{loc[0]}[{loc[1]}]" + (f" (id {rid!r})" if rid else "") + f": {field}"
        problems.append(f"  {where}: {err['msg']}")
    return problems


def load_store_file(path: Path) -> Store:
    """Read and validate a store JSON file (or a directory of customers/products/orders.json)."""
    if path.is_dir():
        data: dict[str, object] = {}
        for part in ("customers", "products", "orders"):
            file = path / f"{part}.json"
            if file.exists():
                loaded = json.loads(file.read_text(encoding="utf-8"))
                data[part] = loaded[part] if isinstance(loaded, dict) else loaded
        meta = path / "store.json"
        if meta.exists():
            data = {**json.loads(meta.read_text(encoding="utf-8")), **data}
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return Store.model_validate(data)
    except ValidationError as exc:
        raise StoreFileError(path, describe_errors(data, exc.errors())) from exc


def open_store_for(settings: Any) -> SqliteStore:
    """The store in the settings' data dir, loaded from the brand's store file on first use."""
    store = SqliteStore(settings.resolved_data_dir() / "store.db")
    if store.is_empty():
        store.replace_all(load_store_file(settings.resolved_store_path()))
    return store
