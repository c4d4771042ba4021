"""Which flow handles which intent: each flow module registers its entry with @handles.

The act node runs the flow registered for the turn's intent. Every module of this package is
imported once (so a new flow module needs no import added anywhere), and the registry must
match the intent catalogue: a `flow` intent without a flow, or a flow for an intent the
catalogue does not call `flow`, is an error at start-up, not a silent KB answer.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from supportgraph.domain.intents import FLOW_INTENTS

if TYPE_CHECKING:
    from supportgraph.nodes.flows.base import FlowContext

Flow = Callable[["FlowContext"], Awaitable[object]]
F = TypeVar("F", bound=Flow)

_REGISTERED: dict[str, Flow] = {}


def handles(intent: str) -> Callable[[F], F]:
    """Register the decorated coroutine as the flow of `intent`."""

    def register(flow: F) -> F:
        if intent in _REGISTERED and _REGISTERED[intent] is not flow:
            raise ValueError(f"two flows for intent {intent!r}")
        _REGISTERED[intent] = flow
        return flow

    return register


@cache
def flows() -> dict[str, Flow]:
    """Intent -> flow, after importing every flow module of this package."""
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
    missing = sorted(FLOW_INTENTS - set(_REGISTERED))
    unknown = sorted(set(_REGISTERED) - FLOW_INTENTS)
    if missing or unknown:
        raise RuntimeError(
            f"flows and the intent catalogue disagree: no flow for {missing}, "
            f"flows for intents the catalogue does not route to a flow: {unknown}"
        )
    return dict(_REGISTERED)
