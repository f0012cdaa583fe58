"""The ground floor every app stands on: the action log and the small shared toolkit.

It imports no app of Throughline; every app may import it.
"""
