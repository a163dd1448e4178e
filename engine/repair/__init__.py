"""Repairs of running instances, for admins (engine.repair.actions)."""
