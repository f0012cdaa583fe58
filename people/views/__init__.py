"""People's pages, one module per page family: ``pages`` (the directory, a profile, the
department tree, the org-chart import) and ``history`` (HR's action log)."""
