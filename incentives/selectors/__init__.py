"""Reads for incentives, by topic: plans and payouts (plans.py), recognition and career pathways
(recognition.py). Who may see what is incentives/access.py's; these scope by it."""
