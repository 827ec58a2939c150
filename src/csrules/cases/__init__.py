"""Case lifecycle, escalation ladders, round-robin and silences: ``reconcile`` (pure)."""
