"""Payslips: models arrive with their issue."""
