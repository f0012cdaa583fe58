"""Reads for the alignment audits, one module per topic; who may see what is audits.access.

- ``runs``: the score's history (latest and previous succeeded runs, the trend).
- ``dashboard``: the alignment pages' read models (finding groups, filters, drill-down, changes).
- ``scope``: what an audit reads (current goal periods, the people and goals in scope), for the rules.
- ``correlation``: the pairs the correlation analysis reads (QI outcomes against appraisal scores).
- ``surveys``: surveys, invitations, who a survey asks, and results with their group-size floor.
"""
