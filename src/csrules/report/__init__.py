"""Portfolio reports and backtests.

The package exists so the import-layer contracts hold from the start; its
modules arrive with their issue.
"""
