"""Django forms of the competencies pages, by topic: library (competencies and rating scales),
builder (appraisal forms and the builder of a draft) and assignment (the rules).

In this app "form" alone means a Django form; what HR builds and people are appraised
with is an *appraisal form* (see competencies/__init__.py).
"""
