"""Count a PDF's pages with poppler's pdfinfo (installed with poppler-utils)."""

from __future__ import annotations

import subprocess
import tempfile
from typing import BinaryIO


def page_count(pdf: BinaryIO) -> int:
    """The number of pages pdfinfo reports."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf.read())
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], check=True, capture_output=True,
                              text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))
