"""Writes for incentives: plans and payouts (plans.py), recognition and pathways (their modules)."""
