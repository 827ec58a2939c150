"""Snapshot readers and record validation.

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
