"""API keys with scopes: client (own threads), agent (handoff queue), admin (everything).

A key is never stored, logged or returned: callers are known by a key id, a hash of the
whole key (a prefix would let two keys that share it read each other's threads).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

SCOPES = ("client", "agent", "admin")

# State fields each scope may write through LangGraph's update_state. An agent may steer the
# conversation (language, tone, handoff status) but never identity or policy fields: setting
# customer_id would skip identity verification, pending_action would skip the customer's yes.
AGENT_WRITABLE_STATE = frozenset(
    {"escalation_status", "persona", "reply_language", "conversation_language"}
)


def key_id(key: str) -> str:
    """A stable, non-secret name for a key: the first 64 bits of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Caller:
    key_id: str  # a hash of the whole key (logs, thread ownership); never key material
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
        return Caller(key_id=key_id(key), scope=scope)
