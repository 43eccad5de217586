"""Projects: models arrive with their issue."""
