"""The SQLite store: customers, products and orders as validated JSON documents.

Documents keep the open shape of the store format (options, extra fields) while the
columns we search on (email, zip, customer, status) are indexed. Its own database file,
separate from the checkpoints, so a store can be reset or replaced without touching
conversations.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from supportgraph.nlu.text import normalize
from supportgraph.tools.schema import STORE_SCHEMA_VERSION, Customer, Order, Product, Store, Variant

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
"""


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
        self._db.executescript(SCHEMA)

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
                for table in ("customers", "products", "orders"):
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
                meta = {"schema_version": str(STORE_SCHEMA_VERSION), "currency": store.currency}
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
        return [Product.model_validate_json(r[0]) for r in self._rows("products")]

    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]:
        """Variants matching the given options, each with whether it can be bought now."""
        product = await self.get_product(product_id)
        if product is None:
            return []
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
        return Store.model_validate(data)
    return Store.model_validate_json(path.read_text(encoding="utf-8"))
