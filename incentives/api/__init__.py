"""The incentives API: plans and payouts (plans.py), recognition and pathways (recognition.py)."""
