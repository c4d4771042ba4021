"""API keys with scopes: client (own threads), agent (handoff queue), admin (everything)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

SCOPES = ("client", "agent", "admin")


@dataclass(frozen=True)
class Caller:
    key_id: str  # a short, non-secret name for the key (logs, thread ownership)
    scope: str

    def may(self, *scopes: str) -> bool:
        return self.scope == "admin" or self.scope in scopes


@dataclass
class KeyRing:
    keys: dict[str, str]  # secret -> scope
    demo: bool = False

    @classmethod
    def from_settings(cls, configured: dict[str, str], demo: bool = False) -> KeyRing:
        bad = {k: v for k, v in configured.items() if v not in SCOPES}
        if bad:
            raise ValueError(f"unknown API key scopes {sorted(set(bad.values()))}; use {SCOPES}")
        if configured:
            return cls(dict(configured), demo=demo)
        # Demo mode: fresh random keys every start, printed once; nothing hard-coded.
        return cls(
            {f"sg-{scope}-{secrets.token_urlsafe(18)}": scope for scope in SCOPES}, demo=True
        )

    def key_for(self, scope: str) -> str:
        return next(k for k, v in self.keys.items() if v == scope)

    def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        key = key or request.headers.get("x-api-key", "")
        scope = self.keys.get(key)
        if scope is None:
            raise HTTPException(401, "missing or unknown API key (Authorization: Bearer <key>)")
        return Caller(key_id=key[:12], scope=scope)


@dataclass
class RateLimiter:
    """Token bucket per API key: `per_minute` requests, refilled continuously."""

    per_minute: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def retry_after(self, key_id: str) -> float:
        """0 when the request may go ahead, else seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        tokens, last = self.buckets.get(key_id, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
        if tokens < 1.0:
            self.buckets[key_id] = (tokens, now)
            return (1.0 - tokens) * 60.0 / self.per_minute
        self.buckets[key_id] = (tokens - 1.0, now)
        return 0.0
