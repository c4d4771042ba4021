"""supportgraph: customer-support chat agents as a LangGraph state machine.

Imports are lazy so `import supportgraph` stays fast; the heavy parts load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Settings", "SupportAgent", "TurnRecord"]

if TYPE_CHECKING:
    from supportgraph.config import Settings
    from supportgraph.domain.records import TurnRecord
    from supportgraph.runtime.agent import SupportAgent


def __getattr__(name: str) -> Any:
    if name == "SupportAgent":
        from supportgraph.runtime.agent import SupportAgent

        return SupportAgent
    if name == "Settings":
        from supportgraph.config import Settings

        return Settings
    if name == "TurnRecord":
        from supportgraph.domain.records import TurnRecord

        return TurnRecord
    raise AttributeError(name)
