"""The seeded generator of the second test store (``tests/data/stores/homegoods.json``).

A home & office goods shop in USD, shaped unlike the demo store on purpose (Shopify-style order
names "#1001", numeric customer/product/variant ids, options other than size and colour, no
delivery dates, no customer segments). A build script, not runtime code:

    python scripts/second_store/generate.py            # rewrite homegoods.json
    python scripts/second_store/generate.py --check    # exit 1 if homegoods.json differs
"""
