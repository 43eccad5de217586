"""PAXml: models arrive with their issue."""
