"""Cascade imports: a CSV or XLSX file checked row by row, then applied all or nothing.

- ``rows``: what every kind shares — ``Row``, ``ImportHandler``, reading a file into rows,
  reading a cell as text, a date or a number, and reporting progress.
- ``observations`` and ``goals``: one kind each, as an ``ImportHandler`` named ``HANDLER``.
- ``runner``: the registry of kinds (written out, one line a kind), recording an upload,
  resuming a stalled one, and the run itself (the Celery task ``cascade.run_import``).
"""
