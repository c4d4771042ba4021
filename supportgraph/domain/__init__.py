"""The pure core: store schema, turn records, conversation state, policy and write rules.

No I/O and no imports from the rest of supportgraph: every other layer builds on it.
"""
