"""Alembic environment and versions, shipped inside the package and applied at start-up."""
