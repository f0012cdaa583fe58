"""Writes for the alignment audits: runs and applying findings (runs.py), HR's action on a finding
(findings.py), the rules' settings (settings.py). The schedule lives in audits/schedule.py."""
