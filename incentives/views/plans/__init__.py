"""Incentive-plan pages, a module per page: HR's plans (set-up, components, target bonuses, computing, review,
adjustment, approval, publication, payroll exports) and everyone's "My payouts".

Who may see and do what is incentives/access.py's. Plans are HR's: the plan list and "new plan"
answer 403 to anyone else, and a plan's own pages 404 (it is outside their scope), as in the
API. A payout is HR's until its plan is published; then its person and the managers above them
see it too; anyone else gets 404. Adjusting is HR's (403 for a manager who may read the payout).

Modules: setup.py (list, create, edit, the plan at a glance), components.py, targets.py,
compute.py, payouts.py (a plan's payouts, one payout, adjusting it, "My payouts"), approval.py,
exports.py; common.py holds what they share. Writing goes through incentives.services.plans: a ValidationError
answers 400 with the messages on the page, a stale save (ConflictError) 409 with what HR
typed kept, and a locked (approved) plan refuses every change with the model's message.
"""
