"""Wiring only: which node runs after which, and the checkpointer."""
