"""The act node's flows: one module per customer job (identity, orders, products)."""
