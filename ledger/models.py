"""Ledger: models arrive with their issue."""
