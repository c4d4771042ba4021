"""`supportgraph identity-token`: a token the configured secret verifies, or a clear error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from supportgraph.domain.identity import verify_token


def test_the_command_prints_a_token_the_configured_secret_verifies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPPORTGRAPH_IDENTITY_SECRET", "cli-secret")
    result = CliRunner().invoke(
        app, ["identity-token", "C1001", "--ttl", "120", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    token = json.loads(result.output)
    assert verify_token(token, "cli-secret", time.time()).customer_id == "C1001"
    assert token["expires"] <= time.time() + 121


def test_without_a_secret_the_command_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SUPPORTGRAPH_IDENTITY_SECRET", raising=False)
    result = CliRunner().invoke(app, ["identity-token", "C1001", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "SUPPORTGRAPH_IDENTITY_SECRET" in result.output
