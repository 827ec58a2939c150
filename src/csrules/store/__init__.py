"""State store and audit log (SQLite, PostgreSQL): the only module that talks SQL.

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
