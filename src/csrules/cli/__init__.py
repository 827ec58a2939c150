"""The ``csrules`` command line: one small module per command."""
