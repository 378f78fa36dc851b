"""Time the PDF maturity report: python benchmarks/bench_report_pdf.py

A board report (5 partnerships) and the state report (24 boards x 5 partnerships) of
bench_workbook's synthetic state-sized cycle. The baseline, measured in the same run,
is the same report with the charts embedded as the web serves them (chart.svg(): text
drawn as glyph outlines) instead of reports.report_pdf.chart_svg (text as text), so the
ratio shows what laying out outlined text would cost WeasyPrint.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_workbook import large_results  # noqa: E402
from pdfpages import page_count  # noqa: E402

from reports import report_pdf  # noqa: E402
from reports.sample import limit_to_board  # noqa: E402

RUNS = 2


def timed(build: Callable[[], bytes]) -> tuple[float, bytes]:
    """The median seconds of RUNS builds, and the last PDF."""
    times, pdf = [], b""
    for _ in range(RUNS):
        start = time.perf_counter()
        pdf = build()
        times.append(time.perf_counter() - start)
    return statistics.median(times), pdf


def main() -> None:
    state = large_results()
    board = limit_to_board(state, "01")
    for label, results in (("board 01 (5 partnerships)", board), ("state (24 boards)", state)):
        seconds, pdf = timed(lambda r=results: report_pdf.build_report(r))
        original = report_pdf.chart_svg
        report_pdf.chart_svg = lambda chart: chart.svg()  # baseline: outlined text
        try:
            base_seconds, _ = timed(lambda r=results: report_pdf.build_report(r))
        finally:
            report_pdf.chart_svg = original
        print(f"{label}: {seconds:.2f} s, {page_count(io.BytesIO(pdf))} pages, "
              f"{len(pdf) / 1024:.0f} KiB; baseline (outlined chart text) {base_seconds:.2f} s; "
              f"ratio {seconds / base_seconds:.2f}")


if __name__ == "__main__":
    main()
