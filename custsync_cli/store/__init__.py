"""The audit store: SQLite database, migrations, queries and the audit log."""
