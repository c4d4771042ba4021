"""JSON that a model wrote as text: in code fences, after a sentence, inside <tool_call> tags.

Local servers often ignore response formats and tool schemas and put the JSON in the
message text instead (research/local-llm-servers.md). Whatever is found here is still
untrusted: callers validate it with pydantic.
"""

from __future__ import annotations

import json
import re
from typing import Any

FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
TOOL_TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL | re.IGNORECASE)
MAX_SCAN = 64  # candidate start positions tried; a reply with more braces is not JSON anyway


def find_json(text: str) -> Any | None:
    """The first JSON object or array in `text`, or None."""
    if not text:
        return None
    candidates = [m.group(1) for m in TOOL_TAG_RE.finditer(text)]
    candidates += [m.group(1) for m in FENCE_RE.finditer(text)]
    candidates.append(text)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        starts = [i for i, ch in enumerate(candidate) if ch in "{["][:MAX_SCAN]
        for start in starts:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            if isinstance(value, dict | list):
                return value
    return None


def find_all_json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in `text` (several <tool_call> blocks, or a list)."""
    tagged = [find_json(m.group(1)) for m in TOOL_TAG_RE.finditer(text or "")]
    found: list[Any] = [v for v in tagged if v is not None] or [find_json(text)]
    objects: list[dict[str, Any]] = []
    for value in found:
        if isinstance(value, dict):
            objects.append(value)
        elif isinstance(value, list):
            objects.extend(v for v in value if isinstance(v, dict))
    return objects
