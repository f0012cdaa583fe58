"""Alignment pages: dashboard.py (dashboard, findings, runs, settings), surveys.py, correlation.py."""
