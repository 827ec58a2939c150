"""Playbook revisions from git, for diff and history.

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
