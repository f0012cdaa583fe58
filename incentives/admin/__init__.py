"""Admin for HR power users, registered explicitly: plans and payouts (plans.py), recognition and
career pathways (recognition.py)."""

from incentives.admin import plans, recognition  # noqa: F401  (each module registers its models)
