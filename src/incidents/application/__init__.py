"""The service layer: commands in, ids out. Loads aggregates, calls them, saves them."""
