"""The maturity report as an accessible document (SPEC 12): PDF/UA-1, tagged, as pdfinfo
reports, and a structural check of its tags (veraPDF is not available offline): headings,
tables with header cells, every figure with its alternative text, the document language;
no page left holding a lone line or row; method text free of internal names."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pytest

from reports import report_pdf
from reports.sample import sample_results


def many_partnerships(count: int):
    """Board 01's sample results with its first partnership repeated `count` times, so
    that the tables run over pages."""
    sample = sample_results("01")
    first = sample.partnerships[0]
    copies = tuple(dataclasses.replace(first, label=f"Partnership {n:02d} of the region",
                                       partnership_id=1000 + n, key=str(1000 + n))
                   for n in range(count))
    return dataclasses.replace(sample, partnerships=copies, changes=(), item_results=())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(report_pdf.build_report(many_partnerships(16)))
    return path


def structure(node, found: Counter, figures: list, tables: list) -> None:
    """Walk the structure tree: count element types, keep figures and tables."""
    if isinstance(node, pikepdf.Array):
        for kid in node:
            structure(kid, found, figures, tables)
        return
    if not isinstance(node, pikepdf.Dictionary):
        return
    if "/S" in node:
        kind = str(node.S)
        found[kind] += 1
        if kind == "/Figure":
            figures.append(node)
        if kind == "/Table":
            tables.append(node)
    if "/K" in node:
        structure(node.K, found, figures, tables)


def kinds_below(node) -> Counter:
    found: Counter = Counter()
    structure(node.get("/K", pikepdf.Array()), found, [], [])
    return found


def test_pdfinfo_reports_the_report_tagged(report):
    info = subprocess.run(["pdfinfo", str(report)], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^Page size:.*\(letter\)$", info, re.M)


def test_its_tags_hold_headings_tables_with_header_cells_and_figures_with_alt(report):
    pdf = pikepdf.open(report)
    assert pdf.Root.MarkInfo.Marked is True
    assert str(pdf.Root.Lang) == "en"
    assert pdf.open_metadata().get("pdfuaid:part") == "1"  # claims PDF/UA-1
    found: Counter = Counter()
    figures: list = []
    tables: list = []
    structure(pdf.Root.StructTreeRoot, found, figures, tables)
    assert found["/H1"] == 1 and found["/H2"] >= 18 and found["/H3"] >= 16
    assert figures and len(figures) == found["/Figure"]
    for figure in figures:
        alt = str(figure.get("/Alt", ""))
        assert len(alt) > 10, "a figure without alternative text"
    assert len(tables) >= 10
    for table in tables:
        cells = kinds_below(table)
        assert cells["/TH"] >= 1 and cells["/TR"] >= 1, "a table without header cells"


def body_lines(page: str) -> list[str]:
    """A page's lines without the running head and the footer."""
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("Sector partnership self-assessment")
            and "· cycle" not in line]


def test_no_page_is_left_holding_a_lone_row_or_line(report):
    pages = subprocess.run(["pdftotext", "-layout", str(report), "-"], check=True,
                           capture_output=True, text=True).stdout.split("\f")[:-1]
    assert len(pages) > 16
    for number, page in enumerate(pages, 1):
        lines = body_lines(page)
        assert len(lines) >= 3, f"page {number} holds only {lines}"
    # The heatmap's figures table (a row per partnership, ending in its stage) runs over a
    # page: neither page is left with a lone row.
    rows = [sum(1 for line in body_lines(page)
                if line.startswith("Partnership") and line.endswith("Implementing"))
            for page in pages[:6]]
    split = [n for n in rows if n]
    assert sum(split) == 16 and len(split) >= 2, rows  # it does run over
    assert all(n >= 2 for n in split), rows


def test_the_method_names_no_internal_file_or_sheet(report):
    text = subprocess.run(["pdftotext", str(report), "-"], check=True, capture_output=True,
                          text=True).stdout
    method = text[text.rindex("Method"):]
    for internal in ("sheet", "CHANGES.md", "Items sheet", ".xlsx", "survey export"):
        assert internal not in method, internal
    assert "rounded to two decimals (half up)" in " ".join(method.split())
