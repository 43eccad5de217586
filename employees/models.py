"""Employees: models arrive with their issue."""
