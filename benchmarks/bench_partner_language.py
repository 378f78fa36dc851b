"""What Spanish costs a partner page: the element page served in Spanish against the same
page in English (the baseline), measured in the same run, in process, on SQLite.

Run: python benchmarks/bench_partner_language.py [--requests N]

Prints milliseconds per request for each language and the ratio, and the one-off cost of
building the Spanish questionnaire from a snapshot (done once per parsed snapshot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey import create_app  # noqa: E402
from survey.content_translation import apply_translation  # noqa: E402
from survey.db import db  # noqa: E402
from survey.questionnaire import Questionnaire, default_folder, load_questionnaire  # noqa: E402


def serve_times(client, url: str, language: str, requests: int) -> list[float]:
    """Milliseconds per GET of `url` with the browser asking for `language`."""
    headers = {"Accept-Language": language}
    client.get(url, headers=headers)  # warm: templates compiled, snapshot parsed
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    from tests.factories import (  # the same builders the tests use
        make_board,
        make_cycle,
        make_invitation,
        make_member,
        make_partnership,
    )

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                          "SECRET_KEY": "bench", "TESTING": True})
        with app.app_context():
            from survey.schema import upgrade

            upgrade(db.engine)
            session = db.session
            member = make_member(session, make_partnership(session, make_board(session, "15")))
            _invitation, token = make_invitation(session, make_cycle(session), member)
            session.commit()
        client = app.test_client()
        url = f"/s/{token}/services"
        english = serve_times(client, url, "en-US", args.requests)
        spanish = serve_times(client, url, "es-US", args.requests)

    questionnaire = load_questionnaire(default_folder())
    snapshot = questionnaire.to_dict()
    start = time.perf_counter()
    for _ in range(100):
        Questionnaire.from_dict(snapshot)
    parse_ms = (time.perf_counter() - start) * 10
    start = time.perf_counter()
    for _ in range(100):
        apply_translation(questionnaire, questionnaire.translations["es"])
    localize_ms = (time.perf_counter() - start) * 10

    en, es = statistics.median(english), statistics.median(spanish)
    print(f"element page, median of {args.requests} GETs (in process, SQLite)")
    print(f"  English (baseline)  {en:7.2f} ms")
    print(f"  Spanish             {es:7.2f} ms   ratio {es / en:.2f}")
    print(f"snapshot parse {parse_ms:.2f} ms; Spanish text applied {localize_ms:.2f} ms "
          f"(once per parsed snapshot: ratio {localize_ms / parse_ms:.2f} of a parse)")


if __name__ == "__main__":
    main()
