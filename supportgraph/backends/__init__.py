"""The shop systems the graph talks to: the Protocols, the SQLite and in-memory stores,
the store-file loader and the factory that picks one from settings."""
