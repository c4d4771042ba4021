"""Settings, read in one place: environment variables SUPPORTGRAPH_* or keyword overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from supportgraph.backends.pgdb import is_postgres_url
from supportgraph.domain.policy import ReturnWindow
from supportgraph.llm.settings import LLMSettings
from supportgraph.nlu.vocab import brand_reply_languages

PACKAGE_DIR = Path(__file__).resolve().parent
DEMO_BRAND_DIR = PACKAGE_DIR / "brands" / "demo"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "supportgraph"


class EscalationRules(BaseModel):
    """The escalation rules (docs/architecture.md); every threshold is configurable."""

    sentiment_below: float = -0.6
    uncertainty_above: float = 0.7
    repeat_limit: int = 3  # the same question asked more than this many times -> handoff
    max_minutes: float = 10.0  # conversation older than this -> offer a human
    vip_segments: list[str] = Field(default_factory=lambda: ["vip"])
    enabled: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUPPORTGRAPH_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    brand_dir: Path = DEMO_BRAND_DIR
    # Where the store (orders, customers, products) JSON comes from on first start.
    store_path: Path | None = None
    # Which store backend (supportgraph/backends/factory.py): "sqlite" keeps <data_dir>/store.db;
    # "memory" loads the store file into memory and forgets every write on exit (demos, tests).
    store_backend: Literal["sqlite", "memory", "postgres"] = "sqlite"
    # sqlite file path (default: <data_dir>/checkpoints.db)
    checkpointer_url: str | None = None
    # PostgreSQL mode (env SUPPORTGRAPH_DATABASE_URL=postgresql://user@host/db): conversation
    # state, transcript, store, handoff queue, write log, locks and rate-limit counters live in
    # that database, shared by every server worker. None (the default): embedded SQLite files
    # in data_dir, no server needed.
    database_url: str | None = None
    # Default: the languages with complete word lists and reply templates (a language folder,
    # supportgraph/languages/<lang>/, or the brand's <brand_dir>/templates/<lang>.json), in vocab
    # rank order. Adding a language adds a folder, not a line here.
    reply_languages: list[str] = Field(
        default_factory=lambda data: brand_reply_languages(data["brand_dir"] / "templates")
    )
    default_language: str = "en"
    # How replies address the customer, per language: {"pt": "formal"} writes Portuguese with
    # "o senhor / a senhora" (languages/pt/templates.formal.json) instead of "você". A language
    # left out keeps its locale.yaml `register` (supportgraph/locales.py).
    registers: dict[str, str] = Field(default_factory=dict)
    # Where a language's customers are when the shop does not know (no address, no order yet):
    # {"es": "MX", "en": "US"} writes Spanish money and dates as es_MX does for every customer
    # whose country is unknown. A known country still picks its own variant (locale.yaml).
    home_countries: dict[str, str] = Field(default_factory=dict)
    max_message_chars: int = 4000
    return_window_days: int = 30
    # A delivered order without a delivery date (many exports have none): count the window from
    # the order date ("order_date"), take the return ("accept") or hand it to a person ("refuse").
    returns_without_delivery_date: Literal["order_date", "accept", "refuse"] = "order_date"
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    # Identity (docs/identity.md). Failed identity lookups (an email, a name and zip code, or
    # one with an order number that is not theirs) a thread may make; after them it makes no
    # more and offers a person, so a caller cannot go on guessing which emails exist.
    identity_attempts: int = Field(default=3, ge=1)
    # The secret the shop's website signs identity tokens with (HMAC-SHA256): a thread created
    # with a valid token starts verified as that customer. None: tokens are refused.
    identity_secret: SecretStr | None = None
    # Server: API key -> scope (client, agent, admin). Empty: demo mode generates keys at start.
    api_keys: dict[str, str] = Field(default_factory=dict)
    # Rate limits (server/guard.py), requests a minute; counted per worker in the embedded mode,
    # shared by every worker in PostgreSQL mode. A web chat or a shop's widget shares one client
    # key among all its customers: the key gets a high ceiling, each end customer a low one.
    rate_limit_per_minute: int = 6000  # per API key: the whole shop's traffic
    customer_rate_limit_per_minute: int = 30  # per thread, per X-Customer-Id / X-Session-Id
    address_rate_limit_per_minute: int = 120  # per source address (X-Forwarded-For if trusted)
    trust_forwarded_for: bool = False  # behind a proxy that sets X-Forwarded-For
    # Admission control (server/admission.py): turns admitted per worker process (running or
    # waiting for their thread). Beyond it a message is answered 503 with Retry-After at once,
    # so a load balancer or client retries elsewhere instead of queueing for half a minute.
    # 16: on 2 cores a worker holds the same turns/s as with 64 admitted, at a p50 of ~1 s
    # instead of ~2.5 s (bench/scale.py); the rest is better retried elsewhere.
    max_turns_in_flight: int = Field(default=16, ge=1)
    retry_after_seconds: int = Field(default=2, ge=1)
    # Retention (runtime/retention.py, `supportgraph maintenance prune`): per thread keep the
    # last K checkpoints plus the one that ends each turn; delete threads idle for D days
    # (None: keep every thread).
    keep_checkpoints: int = Field(default=10, ge=1)
    # Turns write one checkpoint each, the one replay forks a turn from: keep those of the
    # newest N turns only (older turns stay in the transcript, replay and timeline, but can no
    # longer be forked). None: every turn's checkpoint, so any turn can be forked.
    keep_turn_checkpoints: int | None = Field(default=None, ge=1)
    delete_idle_after_days: float | None = None
    # Request bounds, checked by the server's guard before any route sees a request
    # (supportgraph/server/guard.py): 64 KiB is plenty for a 4,000-character message.
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 16 * 1024  # the whole header block
    max_header_value_bytes: int = 8 * 1024  # any one header
    max_json_depth: int = 32  # nesting of arrays and objects in a JSON body
    max_metadata_bytes: int = 8 * 1024  # thread metadata, as compact JSON
    max_metadata_keys: int = 32
    process_locks: bool = False  # set by `serve --workers N>1`: per-thread locks across processes
    demo: bool = False  # keys were generated for this run: the web pages may embed them
    llm: LLMSettings | None = None  # None: offline understanding and templates (the default)

    def postgres_url(self) -> str | None:
        """The PostgreSQL URL when the settings name one (None: the embedded SQLite mode)."""
        return self.database_url if is_postgres_url(self.database_url) else None

    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def checkpoint_path(self) -> Path:
        if self.checkpointer_url:
            return Path(self.checkpointer_url.removeprefix("sqlite:///"))
        return self.resolved_data_dir() / "checkpoints.db"

    def return_window(self) -> ReturnWindow:
        return ReturnWindow(self.return_window_days, self.returns_without_delivery_date)

    def resolved_store_path(self) -> Path:
        return self.store_path or (self.brand_dir / "store.json")
