"""Stores: the evaluation store and its database (SQLAlchemy; SQLite default, PostgreSQL)."""
