"""Prices: the one price-table shape (``catalog``), the bundled real snapshot (``bundled``),
the disk cache (``cache``) and helpers the pricing-source plugins share.

Nothing is imported here, so ``import capdsl.pricing.catalog`` stays light.
"""
