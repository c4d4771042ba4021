"""`supportgraph identity-token`: an identity token for a customer, signed with the configured
secret, to try the shop-side recipe of docs/identity.md against this server."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for


def identity_token(
    customer_id: Annotated[str, typer.Argument(help="The store's id of the customer.")],
    ttl: Annotated[
        int, typer.Option("--ttl", min=1, help="Seconds until the token expires.")
    ] = 3600,
    data_dir: DataDir = None,
) -> None:
    """Print an identity token (JSON) for CUSTOMER_ID, signed with the configured secret.

    It is what the shop's website sends as `identity` to POST /v1/threads
    (SUPPORTGRAPH_IDENTITY_SECRET; docs/identity.md)."""
    from supportgraph.domain.identity import make_token

    secret = settings_for(data_dir).identity_secret
    if secret is None:
        fail("no identity secret configured: set SUPPORTGRAPH_IDENTITY_SECRET")
        return
    typer.echo(json.dumps(make_token(secret.get_secret_value(), customer_id, ttl)))
