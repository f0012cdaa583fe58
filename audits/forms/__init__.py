"""The audits' Django forms, one module per page family (as audits/views/): ``dashboard``
(findings, runs and settings) and ``surveys``."""
