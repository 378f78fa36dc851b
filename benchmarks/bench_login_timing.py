"""How long a sign-in takes for each kind of refusal: none may reveal whether an account exists.

Run: python benchmarks/bench_login_timing.py
Posts the real login form through the test client on a fresh SQLite database: a wrong
password for a real account (the baseline), an unknown email, a deactivated account, an
email slowed down by failures, and a right password. Prints the median of each (rounds
interleaved) and its ratio to the baseline, measured in the same run.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from survey import create_app
from survey.db import db
from survey.schema import upgrade
from survey.services import accounts, login_limits

ROUNDS = 15
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SURVEY_INSTANCE_PATH"] = str(Path(folder) / "instance")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                          "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}"})
        assert db.engine is not None
        upgrade(db.engine)
        with app.app_context():
            accounts.create_user(db.session, "admin@example.org", PASSWORD, "admin")
            gone = accounts.create_user(db.session, "gone@example.org", PASSWORD, "state")
            accounts.create_user(db.session, "spare@example.org", PASSWORD, "admin")
            accounts.deactivate_user(db.session, gone)
            db.session.commit()

        def post(email: str, password: str, address: str) -> float:
            client = app.test_client()
            environ = {"REMOTE_ADDR": address}
            token = CSRF_RE.search(client.get("/login", environ_base=environ)
                                   .get_data(as_text=True))[1]
            start = time.perf_counter()
            client.post("/login", data={"email": email, "password": password,
                                        "csrf_token": token}, environ_base=environ)
            return time.perf_counter() - start

        for _ in range(login_limits.FREE_ATTEMPTS):
            post("slowed@example.org", "guess guess", "10.0.0.99")
        cases = {
            "wrong password (baseline)": ("admin@example.org", "guess guess", "10.0.0.{n}"),
            "unknown email": ("nobody@example.org", "guess guess", "10.0.1.{n}"),
            "deactivated account": ("gone@example.org", PASSWORD, "10.0.2.{n}"),
            "slowed-down email (429)": ("slowed@example.org", PASSWORD, "10.0.0.99"),
            "right password": ("spare@example.org", PASSWORD, "10.0.3.{n}"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for n in range(ROUNDS):  # interleaved, so that load on the machine hits all alike
            for name, (email, password, address) in cases.items():
                times[name].append(post(email, password, address.format(n=n)))
        medians = {name: statistics.median(values) for name, values in times.items()}
        db.engine.dispose()
    base = medians["wrong password (baseline)"]
    print(f"median of {ROUNDS} sign-ins each (POST /login, SQLite)")
    for name, seconds in medians.items():
        print(f"  {name:28s} {seconds * 1000:7.1f} ms   ratio {seconds / base:4.2f}")


if __name__ == "__main__":
    main()
