"""The org-chart import (page and API) refuses a hostile file at once, with a message on the file
field and without holding it in memory; a NUL byte names its row; an ordinary file still imports."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from people.models import Employee, ImportStatus, OrgChartImport
from tests.upload_files import MB, post_file_streamed, write_big_csv, zip_bomb_xlsx

pytestmark = pytest.mark.django_db

API = "/api/v1/org-imports/"
HEADER = "employee_id,name,email,department,manager_id,job_title,hire_date\n"
LIMIT_SECONDS = 1.0
LIMIT_PEAK = 8 * MB


def page() -> str:
    return reverse("people:import")


def test_a_50_mb_csv_is_refused_at_once_on_the_page_and_the_api(cast, client_for, api_client_for, tmp_path):
    path = write_big_csv(
        tmp_path / "org.csv", HEADER, "A1,Ada Lovelace,ada@example.org,Nursing,,Nurse,2020-01-01\n", size=50 * MB
    )
    for client, url in ((client_for(cast.hr), page()), (api_client_for(cast.hr), API)):
        answer = post_file_streamed(client, url, path, name="org.csv", fields={"deactivate_missing": "false"})
        print(
            f"\norg import {url}, 50 MB CSV: {answer.status_code} in {answer.seconds:.2f} s, peak {answer.peak_bytes / MB:.1f} MB"
        )
        assert answer.status_code == 400 and "The file is larger than 20 MB." in answer.text
        assert answer.seconds < LIMIT_SECONDS and answer.peak_bytes < LIMIT_PEAK
    assert not OrgChartImport.objects.exists()


def test_a_zip_bomb_workbook_is_refused_at_once_on_the_page_and_the_api(cast, client_for, api_client_for, tmp_path):
    path = tmp_path / "org.xlsx"
    path.write_bytes(zip_bomb_xlsx(HEADER.strip().split(",")))
    for client, url in ((client_for(cast.hr), page()), (api_client_for(cast.hr), API)):
        answer = post_file_streamed(client, url, path, name="org.xlsx")
        print(f"\norg import {url}, zip bomb: {answer.status_code} in {answer.seconds:.2f} s")
        assert answer.status_code == 400 and "packed more than 100 to 1" in answer.text
        assert answer.seconds < LIMIT_SECONDS
    assert not OrgChartImport.objects.exists()


@override_settings(THROUGHLINE_IMPORT_MAX_ROWS=2)
def test_a_file_one_row_over_the_limit_is_refused_naming_the_limit(cast, api_client_for):
    rows = "".join(f"B{i},Person {i},p{i}@example.org,Nursing,,Nurse,2020-01-01\n" for i in range(3))
    upload = SimpleUploadedFile("org.csv", (HEADER + rows).encode())
    response = api_client_for(cast.hr).post(API, {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"] == [
        "The file has more than 2 rows (not counting the header row); split it into files of at most 2 rows."
    ]


def test_a_nul_byte_in_a_name_is_refused_with_its_row_and_creates_no_one(cast, client_for, api_client_for):
    content = (
        HEADER
        + "C1,Cara Singh,cara@example.org,Pharmacy,,Pharmacist,2021-07-05\n"
        + "C2,Dan\x00 Wu,dan@example.org,Pharmacy,C1,Pharmacist,2021-07-05\n"
    ).encode()
    expected = "Row 3, column B (name): the cell holds a control character (NUL) that cannot be stored."
    response = api_client_for(cast.hr).post(API, {"file": SimpleUploadedFile("org.csv", content)}, format="multipart")
    assert response.status_code == 400 and expected in response.json()["file"][0]
    answer = client_for(cast.hr).post(page(), {"file": SimpleUploadedFile("org.csv", content)})
    assert answer.status_code == 400 and expected in answer.content.decode()
    assert not Employee.objects.filter(employee_id__in=["C1", "C2"]).exists()
    assert not OrgChartImport.objects.exists()


def test_an_ordinary_file_still_imports(cast, api_client_for, django_capture_on_commit_callbacks):
    content = (HEADER + "C1,Cara Singh,cara@example.org,Pharmacy,,Pharmacist,2021-07-05\n").encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(cast.hr).post(
            API, {"file": SimpleUploadedFile("org.csv", content)}, format="multipart"
        )
    assert response.status_code == 202
    assert OrgChartImport.objects.get().status == ImportStatus.SUCCEEDED
    assert Employee.objects.get(employee_id="C1").full_name == "Cara Singh"
