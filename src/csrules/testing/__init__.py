"""csrules test, csrules check and hypothesis strategies from the snapshot schema.

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
