"""Backends (orders, inventory, CRM), the store format and the tools over them."""
