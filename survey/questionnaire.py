"""The questionnaire content: load, validate and snapshot the YAML files in questionnaires/.

Pure Python and PyYAML (no Flask, no database), so reports, imports and tests can use it
anywhere. `load_questionnaire` reads `scale.yaml` plus one file per element key and
raises `QuestionnaireError` listing every problem found, each as "file: item: problem".
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from cachetools import LRUCache

from reports.results import ScaleInfo, StageInfo

ELEMENT_KEYS: tuple[str, ...] = ("data", "vision", "industry", "alignment", "services", "measured")
ANSWER_DONT_KNOW = "DK"
ANSWER_NOT_APPLICABLE = "NA"

MIN_ITEMS = 5
MAX_ITEMS = 8
MIN_RESPONDENTS_FLOOR = 3
SCALE_FILE = "scale.yaml"
OUTCOMES_FILE = "outcomes.yaml"  # outcome measures (survey/outcome_measures.py), not an element

SCALE_KEYS = (
    "levels", "dont_know_label", "not_applicable_label",
    "min_respondents", "change_threshold", "sustained_level",
)
LEVEL_KEYS = ("value", "label", "description", "min_score")
ELEMENT_FILE_KEYS = ("key", "title", "order", "description", "items")
ITEM_KEYS = ("code", "text", "levels", "help")
SNAPSHOT_KEYS = ("scale", "elements", "translations")
TRANSLATION_LANGUAGES = ("es",)  # questionnaires/<language>/, text only (SPEC 13)


class QuestionnaireError(Exception):
    """The content is broken; `problems` lists each one as "file: item: problem"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# The scale is one class shared with the reports that print it: a Level is a stage.
Level = StageInfo
Scale = ScaleInfo


@dataclass(frozen=True)
class Item:
    """One statement of practice, with a descriptor for each level of the scale."""

    code: str
    text: str
    levels: tuple[tuple[int, str], ...]
    help: str | None
    element_key: str

    def descriptor(self, value: int) -> str:
        """What this practice looks like at the given level (KeyError if unknown)."""
        for level_value, descriptor in self.levels:
            if level_value == value:
                return descriptor
        raise KeyError(value)


@dataclass(frozen=True)
class Element:
    """One of the six elements of the sector strategy framework."""

    key: str
    title: str
    order: int
    description: str
    items: tuple[Item, ...]

    @property
    def half_threshold(self) -> int:
        """Scored items a respondent needs for an element score: half, rounded up."""
        return math.ceil(len(self.items) / 2)


@dataclass(frozen=True)
class Questionnaire:
    """The scale and the six elements, in order."""

    scale: Scale
    elements: tuple[Element, ...]
    # Each other language's text (survey.content_translation.Translation), by language code.
    translations: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def _elements_by_key(self) -> dict[str, Element]:
        return {element.key: element for element in self.elements}

    @cached_property
    def _items_by_code(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    def element(self, key: str) -> Element:
        """The element with this key (KeyError if unknown)."""
        return self._elements_by_key[key]

    def item(self, code: str) -> Item:
        """The item with this code (KeyError if unknown)."""
        return self._items_by_code[code]

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, element by element, in questionnaire order."""
        return tuple(item for element in self.elements for item in element.items)

    def localized(self, language: str | None) -> Questionnaire:
        """This questionnaire in another language (same codes and values), else itself."""
        translation = self.translations.get(language or "")
        if not translation:
            return self
        cache = self.__dict__.setdefault("_localized", {})
        if language not in cache:
            from survey.content_translation import apply_translation

            cache[language] = apply_translation(self, translation)
        return cache[language]

    def to_dict(self) -> dict[str, Any]:
        """The content as plain JSON-ready data (what `survey questionnaires dump` prints).

        Translations, when there are any, ride along under "translations" so that a
        cycle's snapshot keeps the Spanish text it opened with.
        """
        extra = {"translations": dict(self.translations)} if self.translations else {}
        return {**self._english_dict(), **extra}

    def _english_dict(self) -> dict[str, Any]:
        scale = self.scale
        return {
            "scale": {
                "levels": [
                    {
                        "value": level.value,
                        "label": level.label,
                        "description": level.description,
                        "min_score": level.min_score,
                    }
                    for level in scale.levels
                ],
                "dont_know_label": scale.dont_know_label,
                "not_applicable_label": scale.not_applicable_label,
                "min_respondents": scale.min_respondents,
                "change_threshold": scale.change_threshold,
                "sustained_level": scale.sustained_level,
            },
            "elements": [
                {
                    "key": element.key,
                    "title": element.title,
                    "order": element.order,
                    "description": element.description,
                    "items": [
                        {
                            "code": item.code,
                            "text": item.text,
                            "levels": {str(value): text for value, text in item.levels},
                            "help": item.help,
                        }
                        for item in element.items
                    ],
                }
                for element in self.elements
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Questionnaire:
        """Rebuild a questionnaire from `to_dict()` output (a cycle's snapshot), validated."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise QuestionnaireError(["snapshot: not a mapping"])
        _check_keys(data, SNAPSHOT_KEYS, "snapshot", problems)
        scale_raw = data.get("scale")
        scale = _parse_scale(scale_raw, "snapshot scale", problems)
        values = _level_values(scale_raw)
        elements_raw = data.get("elements")
        sources: list[tuple[str, Any]] = []
        if not isinstance(elements_raw, list):
            problems.append("snapshot: 'elements' must be a list")
        else:
            for index, raw in enumerate(elements_raw):
                key = raw.get("key") if isinstance(raw, Mapping) else None
                name = f"snapshot element {key}" if isinstance(key, str) else (
                    f"snapshot element #{index + 1}"
                )
                sources.append((name, raw))
        english = _assemble(scale, values, sources, problems, from_files=False)
        translations = data.get("translations") or {}
        if not isinstance(translations, Mapping):
            raise QuestionnaireError(["snapshot: 'translations' must be a mapping"])
        from survey.content_translation import translation_from_snapshot

        checked = {language: translation_from_snapshot(language, text, english, problems)
                   for language, text in translations.items()}
        if problems:
            raise QuestionnaireError(problems)
        return english.with_translations(checked) if checked else english

    def with_translations(self, translations: Mapping[str, Any]) -> Questionnaire:
        """The same content carrying these languages' text."""
        return Questionnaire(scale=self.scale, elements=self.elements,
                             translations=dict(translations))

    @property
    def content_hash(self) -> str:
        """"sha256:" and the hex digest of the canonical JSON of `to_dict()`."""
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Cycle snapshots parsed once per process: a snapshot never changes under the same
# cycle id and content hash, so the key alone says whether a parsed copy is current.
_SNAPSHOTS: LRUCache[tuple[int, str], Questionnaire] = LRUCache(maxsize=64)
_SNAPSHOTS_LOCK = threading.Lock()


def snapshot_questionnaire(
    cycle_id: int, content_hash: str, content: Callable[[], Mapping[str, Any]]
) -> Questionnaire:
    """A cycle's questionnaire from its snapshot, parsed on the first call per process.

    `content` supplies the snapshot (`Cycle.content`) only when it is not cached yet, so
    callers can leave the JSON column unloaded.
    """
    key = (cycle_id, content_hash)
    with _SNAPSHOTS_LOCK:
        found = _SNAPSHOTS.get(key)
    if found is None:
        found = Questionnaire.from_dict(content())
        with _SNAPSHOTS_LOCK:
            _SNAPSHOTS[key] = found
    return found


def default_folder() -> Path:
    """The shipped questionnaires/ folder, next to the survey/ package."""
    here = Path(__file__).resolve().parent
    candidates = (
        here.parent / "questionnaires",  # a source checkout or an editable install
        here / "questionnaires",  # copied into the package by a build step
        Path(sys.prefix) / "share" / "sector-survey" / "questionnaires",  # data-files install
    )
    for candidate in candidates:
        if (candidate / SCALE_FILE).is_file():
            return candidate
    return candidates[0]


def load_questionnaire(folder: str | os.PathLike[str]) -> Questionnaire:
    """Read and validate scale.yaml and one file per element; raise listing every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise QuestionnaireError([f"{folder}: questionnaire folder not found"])
    problems: list[str] = []

    scale_path = folder / SCALE_FILE
    scale_raw: Any = None
    if scale_path.is_file():
        scale_raw = _read_yaml(scale_path, problems)
    else:
        problems.append(f"{SCALE_FILE}: missing (the answer scale and thresholds)")
    scale = _parse_scale(scale_raw, SCALE_FILE, problems) if scale_raw is not None else None
    values = _level_values(scale_raw)

    sources: list[tuple[str, Any]] = []
    unreadable: set[str] = set()
    for path in _element_files(folder):
        raw = _read_yaml(path, problems)
        if raw is None:
            unreadable.add(path.name)
        else:
            sources.append((path.name, raw))
    english = _assemble(scale, values, sources, problems, from_files=True, unreadable=unreadable)
    from survey.content_translation import read_translation

    translations = {language: read_translation(folder, language, english, problems)
                    for language in TRANSLATION_LANGUAGES if (folder / language).is_dir()}
    if problems:
        raise QuestionnaireError(problems)
    return english.with_translations(translations) if translations else english


def _element_files(folder: Path) -> list[Path]:
    """The element files: the six expected names first, then any others by name."""
    expected = [folder / f"{key}.yaml" for key in ELEMENT_KEYS]
    others = sorted({*folder.glob("*.yaml"), *folder.glob("*.yml")} - {*expected})
    return [path for path in expected if path.is_file()] + [
        path for path in others if path.name not in (SCALE_FILE, OUTCOMES_FILE)
    ]


# --- reading ---------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (YAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable keys are reported by the base constructor
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    """Parse one YAML file; on failure record the problem (with its line) and return None."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc.strerror})")
        return None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: {_describe_yaml_error(exc)}")
        return None
    if data is None:
        problems.append(f"{path.name}: file is empty")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name}: must be a mapping of keys, not a {type(data).__name__}")
        return None
    return data


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"YAML syntax error: {problem}"


# --- validation ------------------------------------------------------------------------


def _check_keys(raw: Mapping[Any, Any], allowed: tuple[str, ...], where: str,
                problems: list[str]) -> None:
    """Record unknown keys (a typo guard)."""
    for key in raw:
        if key not in allowed:
            problems.append(
                f"{where}: unknown key {key!r} (expected one of: {', '.join(allowed)})"
            )


def _text(raw: Mapping[Any, Any], key: str, where: str, problems: list[str],
          required: bool = True) -> str | None:
    """A non-empty string field, stripped; records a problem when missing or not text."""
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where}: missing or empty '{key}'")
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: '{key}' must be text, not {value!r}")
        return None
    return value.strip()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _level_values(scale_raw: Any) -> tuple[int, ...] | None:
    """The scale's level values, when they can be read at all (to check item rubrics)."""
    if not isinstance(scale_raw, Mapping) or not isinstance(scale_raw.get("levels"), list):
        return None
    values = []
    for level in scale_raw["levels"]:
        if not isinstance(level, Mapping) or not _is_int(level.get("value")):
            return None
        values.append(level["value"])
    return tuple(values) if values else None


def _parse_scale(raw: Any, where: str, problems: list[str]) -> Scale | None:
    """Validate the scale; record every problem; return it only when it is sound."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping")
        return None
    start = len(problems)
    _check_keys(raw, SCALE_KEYS, where, problems)

    levels: list[Level] = []
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, list) or len(levels_raw) < 2:
        problems.append(f"{where}: 'levels' must list at least 2 levels, lowest first")
        levels_raw = levels_raw if isinstance(levels_raw, list) else []
    for index, level_raw in enumerate(levels_raw, start=1):
        at = f"{where}: level #{index}"
        if not isinstance(level_raw, Mapping):
            problems.append(f"{at}: must be a mapping with {', '.join(LEVEL_KEYS)}")
            continue
        _check_keys(level_raw, LEVEL_KEYS, at, problems)
        value, min_score = level_raw.get("value"), level_raw.get("min_score")
        label = _text(level_raw, "label", at, problems)
        description = _text(level_raw, "description", at, problems)
        if not _is_int(value):
            problems.append(f"{at}: 'value' must be a whole number, not {value!r}")
        if not _is_number(min_score):
            problems.append(f"{at}: 'min_score' must be a number, not {min_score!r}")
        if _is_int(value) and _is_number(min_score) and label and description:
            levels.append(Level(value, label, description, float(min_score)))
    for lower, higher in zip(levels, levels[1:], strict=False):
        if higher.value <= lower.value:
            problems.append(
                f"{where}: level values must ascend ({lower.value} then {higher.value})"
            )
        if higher.min_score <= lower.min_score:
            problems.append(
                f"{where}: min_score must ascend ({lower.label} {lower.min_score} "
                f"then {higher.label} {higher.min_score})"
            )
    if levels and levels[0].min_score > levels[0].value:
        problems.append(
            f"{where}: the lowest level's min_score ({levels[0].min_score}) must be at most "
            f"its value ({levels[0].value}), or low scores would have no stage"
        )
    labels = [level.label for level in levels]
    for label in sorted({label for label in labels if labels.count(label) > 1}):
        problems.append(f"{where}: level label {label!r} is used twice")

    dont_know = _text(raw, "dont_know_label", where, problems)
    not_applicable = _text(raw, "not_applicable_label", where, problems)
    min_respondents = raw.get("min_respondents")
    if not _is_int(min_respondents):
        problems.append(
            f"{where}: 'min_respondents' must be a whole number, not {min_respondents!r}"
        )
    elif min_respondents < MIN_RESPONDENTS_FLOOR:
        problems.append(
            f"{where}: 'min_respondents' is {min_respondents}; it must never be below "
            f"{MIN_RESPONDENTS_FLOOR} (small-n suppression protects respondents)"
        )
    change_threshold = raw.get("change_threshold")
    if not _is_number(change_threshold) or change_threshold <= 0:
        problems.append(
            f"{where}: 'change_threshold' must be a number above 0, not {change_threshold!r}"
        )
    sustained = raw.get("sustained_level")
    values = [level.value for level in levels]
    if not _is_int(sustained) or (values and sustained not in values):
        problems.append(
            f"{where}: 'sustained_level' must be one of the level values "
            f"{values}, not {sustained!r}"
        )

    if len(problems) > start:
        return None
    return Scale(
        levels=tuple(levels),
        dont_know_label=dont_know or "",
        not_applicable_label=not_applicable or "",
        min_respondents=min_respondents,
        change_threshold=float(change_threshold),
        sustained_level=sustained,
    )


def _parse_item(raw: Any, index: int, element_key: str, where: str,
                values: tuple[int, ...] | None, problems: list[str]) -> Item | None:
    """Validate one item and its rubric against the scale's level values."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: item #{index}: must be a mapping with code, text, levels")
        return None
    code = raw.get("code")
    if not isinstance(code, str) or not code.strip() or code != code.strip() or " " in code:
        problems.append(
            f"{where}: item #{index}: missing or invalid 'code' {code!r} "
            "(a short identifier such as data-1)"
        )
        return None
    at = f"{where}: {code}"
    start = len(problems)
    _check_keys(raw, ITEM_KEYS, at, problems)
    text = _text(raw, "text", at, problems)
    help_text = _text(raw, "help", at, problems, required=False)

    descriptors: dict[int, str] = {}
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, Mapping):
        problems.append(f"{at}: 'levels' must map each level value to a descriptor")
    else:
        for key, descriptor in levels_raw.items():
            value = _level_key(key)
            if value is None:
                problems.append(f"{at}: level {key!r} is not a level value")
            elif value in descriptors:
                problems.append(f"{at}: level {value} is given twice")
            elif not isinstance(descriptor, str) or not descriptor.strip():
                problems.append(f"{at}: empty descriptor for level {value}")
                descriptors[value] = ""
            else:
                descriptors[value] = descriptor.strip()
        if values is not None:
            if len(levels_raw) != len(values):
                problems.append(
                    f"{at}: wrong level count: {len(levels_raw)} descriptors, the scale has "
                    f"{len(values)} levels ({', '.join(map(str, values))})"
                )
            for value in values:
                if value not in descriptors:
                    problems.append(f"{at}: missing the descriptor for level {value}")
            for value in sorted(set(descriptors) - set(values)):
                problems.append(f"{at}: extra level {value}, not on the scale")

    if len(problems) > start or text is None or values is None:
        return None
    return Item(
        code=code,
        text=text,
        levels=tuple((value, descriptors[value]) for value in values),
        help=help_text,
        element_key=element_key,
    )


def _level_key(key: Any) -> int | None:
    """A rubric key as a level value: 2 in YAML, "2" in a JSON snapshot."""
    if _is_int(key):
        return key
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key)
    return None


def _parse_element(name: str, raw: Mapping[Any, Any], values: tuple[int, ...] | None,
                   problems: list[str], expected_key: str | None) -> Element | None:
    """Validate one element file (or snapshot entry); return it only when it is sound."""
    start = len(problems)
    _check_keys(raw, ELEMENT_FILE_KEYS, name, problems)
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        problems.append(f"{name}: missing 'key' (one of: {', '.join(ELEMENT_KEYS)})")
        key = None
    elif key not in ELEMENT_KEYS:
        problems.append(
            f"{name}: unknown element key {key!r} (expected one of: {', '.join(ELEMENT_KEYS)})"
        )
    elif expected_key is not None and key != expected_key:
        problems.append(f"{name}: key {key!r} does not match the file name ({key}.yaml)")
    title = _text(raw, "title", name, problems)
    order = raw.get("order")
    if not _is_int(order):
        problems.append(f"{name}: 'order' must be a whole number, not {order!r}")
    description = _text(raw, "description", name, problems, required=False) or ""

    items: list[Item] = []
    items_raw = raw.get("items")
    if not isinstance(items_raw, list):
        problems.append(f"{name}: 'items' must be a list of {MIN_ITEMS} to {MAX_ITEMS} items")
        items_raw = []
    elif not MIN_ITEMS <= len(items_raw) <= MAX_ITEMS:
        problems.append(
            f"{name}: has {len(items_raw)} items; an element needs {MIN_ITEMS} to {MAX_ITEMS}"
        )
    for index, item_raw in enumerate(items_raw, start=1):
        item = _parse_item(item_raw, index, key or "", name, values, problems)
        if item is not None:
            items.append(item)

    if len(problems) > start or key is None or title is None or values is None:
        return None
    return Element(key=key, title=title, order=order, description=description,
                   items=tuple(items))


def _assemble(scale: Scale | None, values: tuple[int, ...] | None,
              sources: list[tuple[str, Any]], problems: list[str],
              from_files: bool, unreadable: set[str] | None = None) -> Questionnaire:
    """Check the elements together (keys, orders, codes) and build the questionnaire."""
    elements: list[Element] = []
    key_owner: dict[str, str] = {}
    order_owner: dict[int, str] = {}
    code_owner: dict[str, str] = {}
    for name, raw in sources:
        if not isinstance(raw, Mapping):
            problems.append(f"{name}: must be a mapping")
            continue
        expected_key = Path(name).stem if from_files else None
        element = _parse_element(name, raw, values, problems, expected_key)

        key, order = raw.get("key"), raw.get("order")
        if isinstance(key, str) and key in ELEMENT_KEYS:
            if key in key_owner:
                problems.append(f"{name}: duplicate element key {key!r}, also in {key_owner[key]}")
            else:
                key_owner[key] = name
        if _is_int(order):
            if order in order_owner:
                problems.append(f"{name}: duplicate order {order}, also in {order_owner[order]}")
            else:
                order_owner[order] = name
        items_raw = raw.get("items")
        for item_raw in items_raw if isinstance(items_raw, list) else []:
            code = item_raw.get("code") if isinstance(item_raw, Mapping) else None
            if not isinstance(code, str) or not code:
                continue
            if code in code_owner:
                problems.append(f"{name}: {code}: duplicate item code, also in {code_owner[code]}")
            else:
                code_owner[code] = name
        if element is not None:
            elements.append(element)

    seen_files = {name for name, _ in sources} | (unreadable or set())
    for key in ELEMENT_KEYS:
        if key not in key_owner and f"{key}.yaml" not in seen_files:
            if from_files:
                problems.append(f"{key}.yaml: missing (every element needs a file; key {key!r})")
            else:
                problems.append(f"snapshot: missing element {key!r}")

    if problems or scale is None:
        if not problems:
            problems.append("scale: could not be read")
        raise QuestionnaireError(problems)
    elements.sort(key=lambda element: element.order)
    return Questionnaire(scale=scale, elements=tuple(elements))
