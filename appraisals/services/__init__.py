"""Writes for review cycles and the records people keep in them.

``appraisals`` (the appraisal workflow), ``checkins`` (the Do phase) and
``development`` (the Act phase); cycle set-up, launch and phases live in ``cycles``.
"""
