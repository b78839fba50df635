"""Read models: each projection and its SQLite and PostgreSQL views."""
