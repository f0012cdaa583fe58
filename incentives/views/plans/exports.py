"""The payouts for payroll, as CSV and XLSX."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from incentives.models.plans import IncentivePlan
from incentives.services import plans as services
from incentives.views.plans.common import plan_for

# ---------------------------------------------------------------- exports for payroll


def _export_name(plan: IncentivePlan, extension: str) -> str:
    return f"payouts-{slugify(plan.name) or 'plan'}-{plan.pk}.{extension}"


@login_required
@require_GET
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if c is None else c for c in row] for row in services.export_rows(plan)])
    # The byte-order mark lets spreadsheet programs read names as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(plan, "csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    plan = plan_for(request, pk)
    rows = services.export_rows(plan)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Payouts")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in rows[0]:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows[1:]:
        sheet.append(row)  # Decimals are written as exact numbers
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(plan, "xlsx")}"'
    return response
