"""csrules: playbook-as-code for Customer Success teams.

A playbook directory of TOML files (health score, segments, coverage tiers, ADKAR
diagnosis, playbooks and escalation ladders, with CEL conditions) is validated,
tested, evaluated against account snapshots and turned into delivered actions.
"""

__version__ = "0.1.0"
