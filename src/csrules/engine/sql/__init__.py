"""The SQL backend: a playbook compiled to one SQL query through SQLGlot.

``query.py`` builds the query (stages 0-5 as common table expressions) from the
expressions ``compiler.py`` compiles, ``target.py`` spells the few constructs dialects
disagree on, ``layout.py`` says what the accounts table holds, and ``run.py`` runs the
query in DuckDB or PostgreSQL and returns an :class:`~csrules.engine.results.Evaluation`
equal to the other backends'.
"""
