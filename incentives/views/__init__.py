"""Incentive pages: plans and payouts (plans.py), recognition and notifications (recognition.py), pathways (pathways.py)."""
