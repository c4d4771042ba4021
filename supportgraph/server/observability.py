"""Request ids, structured JSON logs without PII, Prometheus metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from supportgraph.domain.records import TurnRecord

log = logging.getLogger("supportgraph.server")


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Only ids, names, numbers: message texts never reach a log."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("supportgraph", "supportgraph.server"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    log.log(level, event, extra={"fields": fields})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter("supportgraph_turns", "Customer turns handled", registry=self.registry)
        self.turn_latency = Histogram(
            "supportgraph_turn_seconds", "Turn latency", registry=self.registry
        )
        self.node_latency = Histogram(
            "supportgraph_node_seconds",
            "Node latency",
            ["node"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.intents = Counter(
            "supportgraph_intents", "Intents", ["intent"], registry=self.registry
        )
        self.escalations = Counter(
            "supportgraph_escalations",
            "Escalations",
            ["action", "priority"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "supportgraph_fallbacks", "Turns answered with a fallback reply", registry=self.registry
        )
        self.errors = Counter("supportgraph_errors", "Turns that failed", registry=self.registry)
        self.http = Counter(
            "supportgraph_http_requests", "HTTP requests", ["status"], registry=self.registry
        )
        # Admission control (admission.py) and rate limits (rate_limits.py): what was refused.
        self.turns_in_flight = Gauge(
            "supportgraph_turns_in_flight",
            "Turns admitted in this worker process: running or waiting for their thread",
            registry=self.registry,
        )
        self.turns_shed = Counter(
            "supportgraph_turns_shed",
            "Messages refused with 503 because max_turns_in_flight turns were in flight",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "supportgraph_rate_limited",
            "Requests refused with 429, by the limit they went over",
            ["limit"],
            registry=self.registry,
        )

    def observe(self, record: TurnRecord) -> None:
        self.turns.inc()
        self.turn_latency.observe(record.latency_ms / 1000)
        for node, ms in record.node_ms.items():
            self.node_latency.labels(node).observe(ms / 1000)
        self.intents.labels(record.intent).inc()
        if record.escalation.action != "none":
            self.escalations.labels(
                record.escalation.action, record.escalation.priority or ""
            ).inc()
        if record.error:
            self.errors.inc()
        elif record.intent in ("out_of_scope",) or record.uncertainty > 0.7:
            self.fallbacks.inc()


def now_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
