"""The seeded generator of the demo store (``supportgraph/brands/demo/store.json``).

A build script, not runtime code: the package ships only its output. The store's contents are
tables in ``data/*.yaml`` (shop, names, places, customers, products, orders); the modules here
draw the random records from them, always in the same order, so the output never changes:

    python scripts/demo_store/generate.py            # rewrite store.json
    python scripts/demo_store/generate.py --check    # exit 1 if store.json differs
"""
