"""Delivery of actions: the connector contract, the outbox, retries and pacing."""
