"""Evaluation stages over an account batch (pure: no I/O, no clock).

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
