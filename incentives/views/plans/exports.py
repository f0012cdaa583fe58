"""The payouts for payroll, as CSV and XLSX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from core import exports
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
    return exports.csv_response(services.export_rows(plan), _export_name(plan, "csv"))


@login_required
@require_GET
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    plan = plan_for(request, pk)
    header, *rows = services.export_rows(plan)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Payouts")
    sheet.freeze_panes = "A2"
    exports.xlsx_row(sheet, header, font=Font(bold=True))
    for row in rows:
        exports.xlsx_row(sheet, row)  # Decimals are written as exact numbers
    return exports.xlsx_response(workbook, _export_name(plan, "xlsx"))
