"""Translated questionnaire content: questionnaires/<language>/ beside the English files.

A translation has the same element keys, item codes and level values as the English
content, and only text: titles, descriptions, item texts, level descriptors, help, and the
scale's labels. `read_translation` checks a folder against the English questionnaire and
records every missing or extra element, item, level or help as "file: item: problem";
the result is plain JSON-ready data, kept in the cycle's snapshot so that later edits
affect only later cycles. `apply_translation` gives the questionnaire in that language
(same codes and values, so answers do not depend on the language).

Pure Python and PyYAML, like survey.questionnaire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from survey.questionnaire import Questionnaire

LANGUAGES: tuple[str, ...] = ("es",)
SCALE_KEYS = ("levels", "dont_know_label", "not_applicable_label")
LEVEL_KEYS = ("value", "label", "description")
ELEMENT_KEYS = ("key", "title", "description", "items")
ITEM_KEYS = ("code", "text", "levels", "help")

# One language's text: {"scale": {"levels": {"1": {"label", "description"}},
# "dont_know_label", "not_applicable_label"}, "elements": {key: {"title", "description",
# "items": {code: {"text", "levels": {"1": ...}, "help"}}}}}
Translation = dict[str, Any]


def read_translation(folder: Path, language: str, english: Questionnaire,
                     problems: list[str]) -> Translation:
    """Read folder/<language>/ against the English content; record every difference."""
    from survey.questionnaire import OUTCOMES_FILE, SCALE_FILE, _read_yaml

    where = folder / language
    raw_scale = None
    scale_path = where / SCALE_FILE
    if scale_path.is_file():
        raw_scale = _read_yaml(scale_path, problems)
    else:
        problems.append(f"{language}/{SCALE_FILE}: missing (the scale's labels in {language})")
    files: dict[str, Any] = {}
    for element in english.elements:
        path = where / f"{element.key}.yaml"
        if not path.is_file():
            problems.append(f"{language}/{element.key}.yaml: missing (every element needs "
                            f"its {language} text)")
            continue
        raw = _read_yaml(path, problems)
        if raw is not None:
            files[element.key] = raw
    known = {f"{element.key}.yaml" for element in english.elements} | {SCALE_FILE,
                                                                        OUTCOMES_FILE}
    for path in sorted({*where.glob("*.yaml"), *where.glob("*.yml")}):
        if path.name not in known:
            problems.append(f"{language}/{path.name}: extra file, no such element in English")
    return _check(language, english, raw_scale, files, problems,
                  name=lambda key: f"{language}/{key}.yaml")


def translation_from_snapshot(language: str, data: Any, english: Questionnaire,
                              problems: list[str]) -> Translation:
    """Check a snapshot's stored translation (the shape `read_translation` returns)."""
    at = f"snapshot translation {language}"
    if not isinstance(data, Mapping) or not isinstance(data.get("elements"), Mapping):
        problems.append(f"{at}: must be a mapping with scale and elements")
        return {}
    scale = data.get("scale")
    raw_scale = None
    if isinstance(scale, Mapping) and isinstance(scale.get("levels"), Mapping):
        raw_scale = {**scale, "levels": [
            {"value": int(value), **text} if isinstance(text, Mapping) else text
            for value, text in scale["levels"].items()]}
    files = {}
    for key, raw in data["elements"].items():
        if isinstance(raw, Mapping) and isinstance(raw.get("items"), Mapping):
            raw = {"key": key, **raw, "items": [
                {"code": code, **item} if isinstance(item, Mapping) else item
                for code, item in raw["items"].items()]}
        files[key] = raw
    for key in set(files) - {element.key for element in english.elements}:
        problems.append(f"{at}: extra element {key!r}")
    return _check(language, english, raw_scale, files, problems,
                  name=lambda key: f"{at} {key}")


def _check(language: str, english: Questionnaire, raw_scale: Any, files: Mapping[str, Any],
           problems: list[str], name: Any) -> Translation:
    """Compare one language's raw text with the English structure, recording problems."""
    from survey.questionnaire import SCALE_FILE

    result: Translation = {"scale": _check_scale(f"{language}/{SCALE_FILE}", english,
                                                 raw_scale, problems),
                           "elements": {}}
    for element in english.elements:
        raw = files.get(element.key)
        if raw is None:
            continue
        result["elements"][element.key] = _check_element(name(element.key), element, raw,
                                                         problems)
    return result


def _text(raw: Mapping[Any, Any], key: str, at: str, problems: list[str],
          required: bool = True) -> str:
    value = raw.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is not None and not isinstance(value, str):
        problems.append(f"{at}: '{key}' must be text, not {value!r}")
    elif required:
        problems.append(f"{at}: missing or empty '{key}'")
    return ""


def _unknown(raw: Mapping[Any, Any], allowed: tuple[str, ...], at: str,
             problems: list[str]) -> None:
    for key in raw:
        if key not in allowed:
            problems.append(f"{at}: unknown key {key!r} (a translation holds only "
                            f"{', '.join(allowed)})")


def _check_scale(at: str, english: Questionnaire, raw: Any,
                 problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{at}: must be a mapping")
        return {}
    _unknown(raw, SCALE_KEYS, at, problems)
    levels: dict[str, dict[str, str]] = {}
    raw_levels = raw.get("levels")
    if not isinstance(raw_levels, list):
        problems.append(f"{at}: 'levels' must list each level's value, label and description")
        raw_levels = []
    english_values = [level.value for level in english.scale.levels]
    for index, level in enumerate(raw_levels, start=1):
        if not isinstance(level, Mapping):
            problems.append(f"{at}: level #{index}: must be a mapping")
            continue
        value = level.get("value")
        if value not in english_values:
            problems.append(f"{at}: level #{index}: extra level {value!r}, not on the scale")
            continue
        level_at = f"{at}: level {value}"
        _unknown(level, LEVEL_KEYS, level_at, problems)
        levels[str(value)] = {"label": _text(level, "label", level_at, problems),
                              "description": _text(level, "description", level_at, problems)}
    for value in english_values:
        if str(value) not in levels:
            problems.append(f"{at}: missing level {value}")
    return {"levels": levels,
            "dont_know_label": _text(raw, "dont_know_label", at, problems),
            "not_applicable_label": _text(raw, "not_applicable_label", at, problems)}


def _check_element(at: str, element: Any, raw: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        problems.append(f"{at}: must be a mapping")
        return {}
    _unknown(raw, ELEMENT_KEYS, at, problems)
    if raw.get("key") != element.key:
        problems.append(f"{at}: key {raw.get('key')!r} should be {element.key!r}")
    result: dict[str, Any] = {
        "title": _text(raw, "title", at, problems),
        "description": _text(raw, "description", at, problems,
                             required=bool(element.description)),
        "items": {},
    }
    raw_items = raw.get("items")
    if not isinstance(raw_items, list):
        problems.append(f"{at}: 'items' must list every item of the element")
        return result
    by_code: dict[str, Mapping[Any, Any]] = {}
    for index, item in enumerate(raw_items, start=1):
        code = item.get("code") if isinstance(item, Mapping) else None
        if not isinstance(code, str):
            problems.append(f"{at}: item #{index}: missing 'code'")
        elif code in by_code:
            problems.append(f"{at}: {code}: given twice")
        elif code not in {english_item.code for english_item in element.items}:
            problems.append(f"{at}: {code}: extra item, not in the English {element.key}.yaml")
        else:
            by_code[code] = item
    for english_item in element.items:
        item_raw = by_code.get(english_item.code)
        if item_raw is None:
            problems.append(f"{at}: {english_item.code}: missing item (not translated)")
            continue
        result["items"][english_item.code] = _check_item(
            f"{at}: {english_item.code}", english_item, item_raw, problems)
    return result


def _check_item(at: str, item: Any, raw: Mapping[Any, Any],
                problems: list[str]) -> dict[str, Any]:
    _unknown(raw, ITEM_KEYS, at, problems)
    levels: dict[str, str] = {}
    raw_levels = raw.get("levels")
    if not isinstance(raw_levels, Mapping):
        problems.append(f"{at}: 'levels' must map each level value to its text")
        raw_levels = {}
    english_values = [value for value, _ in item.levels]
    for key, text in raw_levels.items():
        value = int(key) if str(key).isdigit() else None
        if value not in english_values:
            problems.append(f"{at}: extra level {key!r}, not in the English item")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"{at}: empty text for level {value}")
        else:
            levels[str(value)] = text.strip()
    given = {str(key) for key in raw_levels}
    for value in english_values:
        if str(value) not in given:  # an empty one was reported above
            problems.append(f"{at}: missing level {value}")
    help_text = _text(raw, "help", at, problems, required=False)
    if item.help and not help_text:
        problems.append(f"{at}: missing help (the English item has help text)")
    if help_text and not item.help:
        problems.append(f"{at}: extra help (the English item has none)")
    return {"text": _text(raw, "text", at, problems), "levels": levels,
            "help": help_text or None}


def apply_translation(english: Questionnaire, translation: Mapping[str, Any]) -> Questionnaire:
    """The questionnaire with this language's text: same keys, codes, values and thresholds."""
    scale_text = translation.get("scale") or {}
    level_text = scale_text.get("levels") or {}
    scale = dataclasses.replace(
        english.scale,
        levels=tuple(
            dataclasses.replace(level, **level_text[str(level.value)])
            if str(level.value) in level_text else level
            for level in english.scale.levels
        ),
        dont_know_label=scale_text.get("dont_know_label") or english.scale.dont_know_label,
        not_applicable_label=(scale_text.get("not_applicable_label")
                              or english.scale.not_applicable_label),
    )
    elements = []
    for element in english.elements:
        text = (translation.get("elements") or {}).get(element.key) or {}
        items_text = text.get("items") or {}
        items = []
        for item in element.items:
            item_text = items_text.get(item.code) or {}
            levels = item_text.get("levels") or {}
            items.append(dataclasses.replace(
                item,
                text=item_text.get("text") or item.text,
                levels=tuple((value, levels.get(str(value)) or descriptor)
                             for value, descriptor in item.levels),
                help=item_text.get("help") or item.help,
            ))
        elements.append(dataclasses.replace(
            element, title=text.get("title") or element.title,
            description=text.get("description") or element.description, items=tuple(items)))
    return dataclasses.replace(english, scale=scale, elements=tuple(elements))
