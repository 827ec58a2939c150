"""Case lifecycle, escalation ladders, round-robin and silences: reconcile (pure).

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
