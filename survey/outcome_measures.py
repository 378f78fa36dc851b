"""Outcome measures as content (SPEC 16): questionnaires/outcomes.yaml and translations.

Each measure has `key`, `label`, `unit` (count, money or percent), `higher_is_better`
and `description`; questionnaires/<language>/outcomes.yaml gives `label` and
`description` per key. `survey questionnaires check` validates both and names file,
measure and problem. No Flask, no database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey.questionnaire import OUTCOMES_FILE, QuestionnaireError, _check_keys, _read_yaml, _text

UNITS = ("count", "money", "percent")
_KEYS = ("key", "label", "unit", "higher_is_better", "description")


@dataclass(frozen=True)
class Measure:
    """One outcome measure, with its label and description per language."""

    key: str
    label: str
    unit: str
    higher_is_better: bool
    description: str
    labels: tuple[tuple[str, str], ...] = ()  # (language, label)

    def label_in(self, language: str | None) -> str:
        """The label in a language (English when it has none)."""
        return dict(self.labels).get(language or "en", self.label)


def load_measures(folder: str | os.PathLike[str], languages: tuple[str, ...] = ("es",)
                  ) -> tuple[Measure, ...]:
    """The measures of folder/outcomes.yaml with their translations; QuestionnaireError
    lists every problem."""
    folder = Path(folder)
    problems: list[str] = []
    path = folder / OUTCOMES_FILE
    if not path.is_file():  # content from before SPEC 16: no measures to report
        return ()
    raw = _read_yaml(path, problems)
    measures = _parse(raw, problems) if raw is not None else []
    labels: dict[str, list[tuple[str, str]]] = {m.key: [] for m in measures}
    for language in languages:
        translated = folder / language / OUTCOMES_FILE
        if not (folder / language).is_dir():
            continue
        where = f"{language}/{OUTCOMES_FILE}"
        if not translated.is_file():
            problems.append(f"{where}: missing (the measures' {language} labels)")
            continue
        data = _read_yaml(translated, problems)
        if data is None:
            continue
        _check_keys(data, ("measures",), where, problems)
        entries = data.get("measures")
        if not isinstance(entries, dict):
            problems.append(f"{where}: 'measures' must map each measure key to its text")
            continue
        for key in entries.keys() - labels.keys():
            problems.append(f"{where}: measure {key!r}: extra, no such measure in English")
        for key in labels:
            entry = entries.get(key)
            if not isinstance(entry, dict):
                problems.append(f"{where}: measure {key!r}: missing translation")
                continue
            _check_keys(entry, ("label", "description"), f"{where}: measure {key!r}", problems)
            label = _text(entry, "label", f"{where}: measure {key!r}", problems)
            _text(entry, "description", f"{where}: measure {key!r}", problems)
            if label:
                labels[key].append((language, label))
    if problems:
        raise QuestionnaireError(problems)
    return tuple(Measure(m.key, m.label, m.unit, m.higher_is_better, m.description,
                         tuple(labels[m.key])) for m in measures)


def _parse(raw: dict[Any, Any], problems: list[str]) -> list[Measure]:
    _check_keys(raw, ("measures",), OUTCOMES_FILE, problems)
    entries = raw.get("measures")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{OUTCOMES_FILE}: 'measures' must be a non-empty list")
        return []
    measures, seen = [], set()
    for index, entry in enumerate(entries, 1):
        where = f"{OUTCOMES_FILE}: measure {index}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        key = _text(entry, "key", where, problems)
        if key:
            where = f"{OUTCOMES_FILE}: measure {key!r}"
            if key in seen:
                problems.append(f"{where}: duplicate key")
            seen.add(key)
        _check_keys(entry, _KEYS, where, problems)
        label = _text(entry, "label", where, problems)
        description = _text(entry, "description", where, problems)
        unit = entry.get("unit")
        if unit not in UNITS:
            problems.append(f"{where}: unit must be one of {', '.join(UNITS)}, not {unit!r}")
        better = entry.get("higher_is_better")
        if not isinstance(better, bool):
            problems.append(f"{where}: higher_is_better must be true or false, not {better!r}")
        if key and label and description and unit in UNITS and isinstance(better, bool):
            measures.append(Measure(key, label, unit, better, description))
    return measures


_loaded: dict[tuple[str, float], tuple[Measure, ...]] = {}


def configured_measures() -> tuple[Measure, ...]:
    """The measures of the content in force (SURVEY_QUESTIONNAIRES inside an app, else the
    shipped folder), read again when the file changes; () when the content is broken."""
    from survey.questionnaire import default_folder

    folder = default_folder()
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            folder = Path(current_app.config.get("QUESTIONNAIRES") or folder)
    except ImportError:  # pragma: no cover - Flask is a dependency
        pass
    path = folder / OUTCOMES_FILE
    stamp = path.stat().st_mtime if path.is_file() else 0.0
    key = (str(folder), stamp)
    if key not in _loaded:
        try:
            _loaded[key] = load_measures(folder)
        except QuestionnaireError:
            _loaded[key] = ()
    return _loaded[key]
