"""A tiny shop: carts and prices."""
