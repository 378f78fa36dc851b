"""Charts and workbooks from aggregated results: no Flask, no database."""
