"""The columns of Shopify's CSV exports (the header spellings each export version uses) and the
values Shopify writes in them."""

from __future__ import annotations

# Canonical column -> the header spellings Shopify has used (the newer product export renamed
# "Handle" to "URL handle", "Variant Price" to "Price"...). Matched ignoring case and spacing.
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Name",),
    "email": ("Email",),
    "financial_status": ("Financial Status",),
    "paid_at": ("Paid at",),
    "fulfillment_status": ("Fulfillment Status",),
    "fulfilled_at": ("Fulfilled at",),
    "currency": ("Currency",),
    "total": ("Total",),
    "shipping_method": ("Shipping Method",),
    "created_at": ("Created at",),
    "quantity": ("Lineitem quantity",),
    "item_name": ("Lineitem name",),
    "item_price": ("Lineitem price",),
    "item_sku": ("Lineitem sku",),
    "billing_name": ("Billing Name",),
    "billing_street": ("Billing Street",),
    "billing_address1": ("Billing Address1",),
    "billing_address2": ("Billing Address2",),
    "billing_city": ("Billing City",),
    "billing_zip": ("Billing Zip",),
    "billing_province": ("Billing Province",),
    "billing_country": ("Billing Country",),
    "billing_phone": ("Billing Phone",),
    "shipping_name": ("Shipping Name",),
    "shipping_street": ("Shipping Street",),
    "shipping_address1": ("Shipping Address1",),
    "shipping_address2": ("Shipping Address2",),
    "shipping_city": ("Shipping City",),
    "shipping_zip": ("Shipping Zip",),
    "shipping_province": ("Shipping Province",),
    "shipping_country": ("Shipping Country",),
    "shipping_phone": ("Shipping Phone",),
    "cancelled_at": ("Cancelled at",),
    "payment_method": ("Payment Method",),
    "refunded_amount": ("Refunded Amount",),
    "outstanding_balance": ("Outstanding Balance",),
    "phone": ("Phone",),
}
ORDER_REQUIRED = tuple(
    "name email financial_status fulfillment_status currency total created_at quantity item_name"
    " item_price".split()
)
# Columns of the order itself: filled on an order's first row, blank on its other rows.
ORDER_LEVEL = (
    *"email financial_status paid_at fulfillment_status fulfilled_at currency total".split(),
    *"shipping_method created_at cancelled_at payment_method refunded_amount".split(),
    *"outstanding_balance phone".split(),
    *(
        f"{side}_{part}"
        for side in ("billing", "shipping")
        for part in "name street address1 address2 city zip province country phone".split()
    ),
)
PRODUCT_COLUMNS: dict[str, tuple[str, ...]] = {
    "handle": ("Handle", "URL handle"),
    "title": ("Title",),
    "body": ("Body (HTML)", "Description"),
    "vendor": ("Vendor",),
    "type": ("Type",),
    "status": ("Status",),
    **{
        f"option{n}_{part}": (f"Option{n} {part.title()}",)
        for n in (1, 2, 3)
        for part in ("name", "value")
    },
    "sku": ("Variant SKU", "SKU"),
    "price": ("Variant Price", "Price"),
    "inventory_tracker": ("Variant Inventory Tracker", "Inventory tracker"),
    "inventory_qty": ("Variant Inventory Qty", "Inventory quantity"),
    "inventory_policy": ("Variant Inventory Policy", "Continue selling when out of stock"),
}
PRODUCT_REQUIRED = ("handle", "title")

FINANCIAL_STATUSES = tuple(
    "pending authorized partially_paid paid partially_refunded refunded voided expired".split()
)
FULFILLMENT_STATUSES = ("fulfilled", "partial", "unfulfilled", "restocked", "pending")
# Shopify's option names -> the schema's keys where they differ.
OPTION_KEYS = {"color": "colour"}
DEFAULT_TITLE = "Default Title"  # the one "variant" of a product without options
