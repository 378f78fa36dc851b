"""Bare baselines for benchmarks/run.py, each run as its own process (`python -c SCRIPT`).

- CSV_SCRIPT: one SELECT of the cycle's submitted answers (the same join and order as
  `survey export FILE.csv`) straight through `csv.writer`: the floor for "stream these
  rows to a file".
- WORKBOOK_SCRIPT: one GROUP BY per sheet (state, boards, partnerships, items, partner
  types) written with openpyxl in write-only mode: the floor for "a rollup workbook".
- HELLO_APP: a hello-world Flask app, served by gunicorn -w 2 for the page baseline.

Both scripts take a SQLAlchemy URL, the cycle name and an output path, and use the
database driver directly through SQLAlchemy's raw connection (no ORM).
"""

from __future__ import annotations

CSV_SCRIPT = r"""
import csv, sys
from sqlalchemy import create_engine
url, cycle, out = sys.argv[1:4]
engine = create_engine(url)
raw = engine.raw_connection()
mark = "%s" if url.startswith("postgresql") else "?"
cursor = raw.cursor()
cursor.execute(
    "SELECT c.name, p.board_code, p.partnership_name, i.id, i.partner_type, a.element_key,"
    " a.item_code, a.level, a.special FROM participations p"
    " JOIN invitations i ON i.participation_id = p.id JOIN answers a ON a.invitation_id = i.id"
    " JOIN cycles c ON c.id = i.cycle_id"
    f" WHERE c.name = {mark} AND i.status = 'submitted'"
    " ORDER BY p.board_code, p.partnership_name, i.id, a.element_key, a.item_code", (cycle,))
with open(out, "w", newline="", encoding="utf-8") as handle:
    writer = csv.writer(handle)
    writer.writerow(["cycle", "board", "partnership", "respondent", "partner_type", "element",
                     "item", "score"])
    while True:
        rows = cursor.fetchmany(5000)
        if not rows:
            break
        writer.writerows(
            (c, b, p, f"r{i}", t, e, it, level if level is not None else (special or ""))
            for c, b, p, i, t, e, it, level, special in rows)
"""

WORKBOOK_SCRIPT = r"""
import sys
from openpyxl import Workbook
from sqlalchemy import create_engine
url, cycle, out = sys.argv[1:4]
engine = create_engine(url)
raw = engine.raw_connection()
mark = "%s" if url.startswith("postgresql") else "?"
base = (" FROM answers a JOIN invitations i ON a.invitation_id = i.id"
        " JOIN participations p ON i.participation_id = p.id JOIN cycles c ON c.id = i.cycle_id"
        f" WHERE c.name = {mark} AND i.status = 'submitted'")
sheets = {
    "Summary": "SELECT a.element_key, COUNT(DISTINCT i.id), AVG(a.level)" + base
               + " GROUP BY a.element_key",
    "Boards": "SELECT p.board_code, a.element_key, COUNT(DISTINCT i.id), AVG(a.level)" + base
              + " GROUP BY p.board_code, a.element_key",
    "Partnerships": "SELECT p.board_code, p.partnership_name, p.sector, a.element_key,"
                    " COUNT(DISTINCT i.id), AVG(a.level)" + base
                    + " GROUP BY p.board_code, p.partnership_name, p.sector, a.element_key",
    "Items": "SELECT p.board_code, p.partnership_name, a.element_key, a.item_code,"
             " COUNT(a.level), AVG(a.level),"
             " SUM(CASE WHEN a.special = 'DK' THEN 1 ELSE 0 END),"
             " SUM(CASE WHEN a.special = 'NA' THEN 1 ELSE 0 END),"
             " SUM(CASE WHEN a.level = 1 THEN 1 ELSE 0 END),"
             " SUM(CASE WHEN a.level = 2 THEN 1 ELSE 0 END),"
             " SUM(CASE WHEN a.level = 3 THEN 1 ELSE 0 END),"
             " SUM(CASE WHEN a.level = 4 THEN 1 ELSE 0 END)" + base
             + " GROUP BY p.board_code, p.partnership_name, a.element_key, a.item_code",
    "Partner types": "SELECT p.board_code, i.partner_type, a.element_key,"
                     " COUNT(DISTINCT i.id), AVG(a.level)" + base
                     + " GROUP BY p.board_code, i.partner_type, a.element_key",
}
book = Workbook(write_only=True)
for title, query in sheets.items():
    sheet = book.create_sheet(title)
    cursor = raw.cursor()
    cursor.execute(query, (cycle,))
    sheet.append([d[0] for d in cursor.description])
    for row in cursor.fetchall():
        sheet.append([float(v) if v is not None and not isinstance(v, (int, float, str))
                      else v for v in row])
book.save(out)
"""

HELLO_APP = '''
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"
'''
