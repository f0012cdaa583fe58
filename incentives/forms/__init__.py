"""Django forms for the incentive pages, by topic: plans and payouts (plans.py), recognition and
career pathways (recognition.py)."""
