"""Pure building blocks (parsing, pricing, catalog, names): no Dagster imports here."""
