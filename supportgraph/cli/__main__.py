"""`python -m supportgraph.cli ...`, the same as the `supportgraph` script."""

from supportgraph.cli import app

app()
