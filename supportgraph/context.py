"""Deps: the resources every node receives through LangGraph's runtime context.

No global mutable state: SupportAgent builds one Deps per process and passes it to each
run; a run without them fails loudly (deps_of) instead of building defaults from the
environment behind the host's back. Heavy resources (models, the KB) load on first use, so a turn that needs no KB never
pays for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportgraph.backends.protocols import StoreBackend
from supportgraph.config import Settings
from supportgraph.domain.schema import Product
from supportgraph.nlu.entities import Catalogue
from supportgraph.nlu.language import LanguageDetector
from supportgraph.templates import Templates

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from supportgraph.knowledge.index import KnowledgeBase
    from supportgraph.llm.service import LLMService
    from supportgraph.nlu.fraud import FraudModel
    from supportgraph.nlu.intents import IntentClassifier
    from supportgraph.nlu.scope import OtherCompanies


@dataclass
class Deps:
    settings: Settings
    store: StoreBackend
    catalogue: Catalogue
    templates: Templates
    currency: str = "EUR"
    clock: Any = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def language(self) -> LanguageDetector:
        return LanguageDetector(
            default=self.settings.default_language,
            preferred=tuple(self.settings.reply_languages),
            cache_dir=self.settings.resolved_data_dir() / "models",
        )

    @cached_property
    def intents(self) -> IntentClassifier:
        from supportgraph.nlu.intents import IntentClassifier

        extra = self.settings.brand_dir / "intents_train.json"
        with self._lock:
            return IntentClassifier.load_or_train(
                self.settings.resolved_data_dir() / "models",
                [extra] if extra.exists() else None,
            )

    @cached_property
    def other_companies(self) -> OtherCompanies:
        from supportgraph.nlu.scope import OtherCompanies

        return OtherCompanies.load(self.settings.brand_dir)

    @cached_property
    def fraud(self) -> FraudModel | None:
        from supportgraph.nlu.fraud import FraudModel

        with self._lock:
            return FraudModel.load_or_train(self.settings.resolved_data_dir() / "models")

    @cached_property
    def tools(self) -> dict[str, BaseTool]:
        from supportgraph.tools.lc_tools import build_tools

        return build_tools(self.store, lambda: self.clock())

    @cached_property
    def kb(self) -> KnowledgeBase:
        from supportgraph.knowledge.index import KnowledgeBase

        with self._lock:
            # resolve(): sandboxes that link one shared index reuse one Chroma client.
            kb = KnowledgeBase((self.settings.resolved_data_dir() / "kb").resolve())
            if kb.count() == 0:
                kb_dir = self.settings.brand_dir / "kb"
                if kb_dir.exists():
                    kb.ingest(kb_dir)
            return kb

    @cached_property
    def llm(self) -> LLMService | None:
        """The LLM layers (with their breakers) when settings configure a model; None keeps
        the offline classifier and templates (the default)."""
        if self.settings.llm is None:
            return None
        from supportgraph.llm.service import LLMService

        return LLMService(self.settings.llm)

    def kb_dir(self) -> Path:
        return self.settings.brand_dir / "kb"

    def with_store(self, store: StoreBackend) -> Deps:
        """The same resources over another store (a sandbox): loaded models and the KB are
        shared, tools are rebuilt for the new store."""
        other = replace(self, store=store, _lock=threading.Lock())
        for shared in ("language", "intents", "kb", "llm"):
            if shared in self.__dict__:
                other.__dict__[shared] = self.__dict__[shared]
        return other

    @classmethod
    async def from_settings(cls, settings: Settings, store: StoreBackend) -> Deps:
        """Deps for these settings over an opened store (the host opens it, e.g. with
        backends.factory.open_store: nodes import this module, so it names no backend), with
        the brand's templates and the store's catalogue. Models and the KB load on first use."""
        return cls.with_products(settings, store, await store.list_products())

    @classmethod
    def with_products(
        cls, settings: Settings, store: StoreBackend, products: list[Product]
    ) -> Deps:
        """As `from_settings`, with the store's products already read (no event loop needed:
        graph/studio.py builds its Deps in a worker thread)."""
        return cls(
            settings=settings,
            store=store,
            catalogue=Catalogue.from_products(products),
            templates=Templates.for_brand(settings.brand_dir, register=settings.registers),
            currency=store.currency(),
        )

    def warm(self, kb: bool = True) -> None:
        """Load models now (for long-running processes) instead of on the first turn."""
        from supportgraph.embedding.e5 import model

        self.language.warm()
        if self.intents.folders is not None:  # the full model reads e5 vectors of each message
            model()
        _ = self.fraud
        if kb:
            _ = self.kb


class MissingContext(RuntimeError):
    """A node ran without Deps in its runtime context: the host invoked the graph wrongly."""


def deps_of(runtime: Any) -> Deps:
    """The Deps of this run. Every host passes them as the run's context (SupportAgent per
    process, graph/studio.py for `langgraph dev`); there is no hidden global fallback."""
    context = getattr(runtime, "context", None)
    if not isinstance(context, Deps):
        raise MissingContext(
            "the graph was invoked without Deps as its context: pass context=Deps(...) "
            "(SupportAgent does), or use supportgraph.graph.studio.graph, which builds them "
            f"from settings; got {type(context).__name__}"
        )
    return context
