"""Content version 2 in both languages: plain words, distinct rubrics, complete translations.

A partner who misreads an item gives a wrong score no chart can fix, so the shipped
content is held to a few checks a reviewer would make by hand: short statements, no
unexplained jargon, four different descriptors per item and no descriptor reused by
another item; and the Spanish text covers exactly what the English has.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import flask
import pytest
import yaml

from survey.cli.content import questionnaires_cli
from survey.questionnaire import Questionnaire, QuestionnaireError, load_questionnaire

SHIPPED = Path(__file__).resolve().parent.parent / "questionnaires"
LANGUAGES = (None, "es")

# Statements are read on a phone by business owners: one idea, short enough to take in.
MAX_TEXT = {None: 160, "es": 180}  # Spanish runs about a fifth longer than English
MAX_DESCRIPTOR = {None: 200, "es": 240}
# Terms the 2026 review found unexplained (and a few more): allowed only in an item whose
# help text explains them. Regular expressions, matched as whole words, any case.
JARGON = {
    None: (r"pre-apprenticeships?", r"public partners?", r"business services team",
           r"eligibility rules?", r"credit for experience", r"stackable", r"WIOA",
           r"labor market", r"convener", r"target industry|target industries",
           r"registered apprenticeships?", r"competitiveness"),
    "es": (r"preaprendizajes?", r"socios? públicos?", r"servicios empresariales",
           r"elegibilidad", r"crédito por experiencia", r"acumulables?", r"WIOA",
           r"mercado laboral", r"industrias? prioritarias?", r"aprendizaje registrados?",
           r"competitividad"),
}
# Terms that no help text makes worth a partner's time: plainer words instead.
BANNED = (r"in kind", r"charter", r"credentials that build on each other", r"en especie")


def mentions(pattern: str, text: str) -> bool:
    return re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE) is not None


@pytest.fixture(scope="module")
def shipped() -> Questionnaire:
    return load_questionnaire(SHIPPED)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "questionnaires"
    shutil.copytree(SHIPPED, target)
    return target


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(folder)
    return caught.value.problems


# --- plain language, both languages -------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_item_texts_are_short(shipped: Questionnaire, language: str | None) -> None:
    content = shipped.localized(language)
    too_long = [(item.code, len(item.text)) for item in content.items
                if len(item.text) > MAX_TEXT[language]]
    assert too_long == []
    long_descriptors = [(item.code, value) for item in content.items
                        for value, text in item.levels if len(text) > MAX_DESCRIPTOR[language]]
    assert long_descriptors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_jargon_only_where_help_explains_it(shipped: Questionnaire, language: str | None) -> None:
    unexplained = []
    for item in shipped.localized(language).items:
        words = " ".join([item.text, *(text for _, text in item.levels)])
        for term in JARGON[language]:
            if mentions(term, words) and not mentions(term, item.help or ""):
                unexplained.append((item.code, term))
        for term in BANNED:
            if mentions(term, words):
                unexplained.append((item.code, term))
    assert unexplained == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_descriptors_differ_within_each_item(shipped: Questionnaire,
                                             language: str | None) -> None:
    for item in shipped.localized(language).items:
        texts = [text.lower() for _, text in item.levels]
        assert len(set(texts)) == len(texts), item.code
        for a, b in itertools.combinations(texts, 2):
            assert difflib.SequenceMatcher(None, a, b).ratio() < 0.8, (item.code, a, b)


def word_pairs(text: str) -> set[tuple[str, str]]:
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:], strict=False))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_descriptor_repeats_another_items(shipped: Questionnaire,
                                            language: str | None) -> None:
    """No descriptor reuses another item's wording (word pairs in common, Jaccard < 0.3).

    The review's repeats (industry-1 level 4 = measured-6 level 4; data-4 level 4 =
    alignment-2 level 3) were rewritten by hand; this guards against copied wording.
    """
    descriptors = [(f"{item.code} level {value}", word_pairs(text))
                   for item in shipped.localized(language).items for value, text in item.levels]
    echoes = [(a, b) for (a, pairs_a), (b, pairs_b) in itertools.combinations(descriptors, 2)
              if a.split()[0] != b.split()[0]
              and len(pairs_a & pairs_b) / len(pairs_a | pairs_b) >= 0.3]
    assert echoes == []


def test_items_per_element_and_help_for_new_policy_items(shipped: Questionnaire) -> None:
    for element in shipped.elements:
        assert 5 <= len(element.items) <= 8, element.key
    # The policy gaps the review named are covered (text checks, English).
    text = {item.code: item.text.lower() for item in shipped.items}
    assert any("wioa" in t for code, t in text.items() if code.startswith("vision-"))
    services = " ".join(t for code, t in text.items() if code.startswith("services-"))
    assert "disabilities" in services and "rural" in services and "languages" in services
    assert "feedback" in services
    assert any("competitiveness" in t for code, t in text.items() if code.startswith("measured-"))
    assert any("target industries" in t for code, t in text.items() if code.startswith("data-"))


def test_changes_file_names_every_new_and_retired_code(shipped: Questionnaire) -> None:
    changes = (SHIPPED / "CHANGES.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(?:data|vision|industry|alignment|services|measured)-\d+\b",
                           changes))
    version_1 = {f"{key}-{n}" for key in ("data", "vision", "industry", "alignment",
                                           "services", "measured") for n in range(1, 7)}
    new = {item.code for item in shipped.items} - version_1
    retired = version_1 - {item.code for item in shipped.items}
    assert new and retired
    assert new <= named and retired <= named


# --- the Spanish text matches the English structure ----------------------------------------


def test_spanish_has_every_element_item_level_and_help(shipped: Questionnaire) -> None:
    spanish = shipped.localized("es")
    assert spanish is not shipped
    assert [i.code for i in spanish.items] == [i.code for i in shipped.items]
    assert spanish.scale.values == shipped.scale.values
    assert [level.min_score for level in spanish.scale.levels] == [
        level.min_score for level in shipped.scale.levels]
    assert spanish.scale.dont_know_label == "No sé"
    for english, translated in zip(shipped.items, spanish.items, strict=True):
        assert translated.text != english.text, english.code
        assert bool(translated.help) == bool(english.help), english.code
        for (value, text), (_, english_text) in zip(translated.levels, english.levels,
                                                    strict=True):
            assert text and text != english_text, (english.code, value)
    for english, translated in zip(shipped.elements, spanish.elements, strict=True):
        assert translated.title != english.title and translated.description


def test_a_deleted_spanish_level_names_file_and_item(shipped: Questionnaire,
                                                    folder: Path) -> None:
    code = shipped.element("vision").items[2].code
    edit(folder / "es" / "vision.yaml", lambda d: d["items"][2]["levels"].pop(4))
    assert problems_of(folder) == [f"es/vision.yaml: {code}: missing level 4"]


def test_missing_extra_and_empty_spanish_text(shipped: Questionnaire, folder: Path) -> None:
    data_items = shipped.element("data").items
    helped = next(item for item in data_items if item.help)
    plain = next(item for item in data_items if not item.help)

    def change(d: dict[str, Any]) -> None:
        d["items"] = [i for i in d["items"] if i["code"] != data_items[-1].code]
        d["items"].append({"code": "data-99", "text": "Extra", "levels": {1: "a"}})
        for item in d["items"]:
            if item["code"] == helped.code:
                item.pop("help")
            if item["code"] == plain.code:
                item["help"] = "Ayuda de más."
                item["levels"][2] = " "
                item["levels"][5] = "Más allá."
    edit(folder / "es" / "data.yaml", change)
    (folder / "es" / "measured.yaml").unlink()
    (folder / "es" / "extras.yaml").write_text("key: extras\n", encoding="utf-8")
    problems = problems_of(folder)
    assert set(problems) == {
        "es/data.yaml: data-99: extra item, not in the English data.yaml",
        f"es/data.yaml: {data_items[-1].code}: missing item (not translated)",
        f"es/data.yaml: {helped.code}: missing help (the English item has help text)",
        f"es/data.yaml: {plain.code}: extra help (the English item has none)",
        f"es/data.yaml: {plain.code}: empty text for level 2",
        f"es/data.yaml: {plain.code}: extra level 5, not in the English item",
        "es/measured.yaml: missing (every element needs its es text)",
        "es/extras.yaml: extra file, no such element in English",
    }


def test_spanish_scale_label_missing(folder: Path) -> None:
    edit(folder / "es" / "scale.yaml", lambda d: d["levels"].pop())
    assert problems_of(folder) == ["es/scale.yaml: missing level 4"]


def test_a_new_english_item_needs_its_spanish(shipped: Questionnaire, folder: Path) -> None:
    def add(d: dict[str, Any]) -> None:
        d["items"] = d["items"][:7] + [{**d["items"][0], "code": "measured-99"}]
    edit(folder / "measured.yaml", add)
    problems = problems_of(folder)
    assert "es/measured.yaml: measured-99: missing item (not translated)" in problems


def test_the_snapshot_keeps_the_spanish_it_opened_with(shipped: Questionnaire,
                                                      folder: Path) -> None:
    snapshot = json.loads(json.dumps(shipped.to_dict()))
    edit(folder / "es" / "data.yaml", lambda d: d.update(title="Título cambiado"))
    later = load_questionnaire(folder)
    assert later.localized("es").element("data").title == "Título cambiado"
    assert later.content_hash != shipped.content_hash  # a new cycle snapshots the new text
    restored = Questionnaire.from_dict(snapshot)
    assert restored.localized("es").element("data").title == "Basada en datos de calidad"
    # A snapshot from before translations existed reads as English only.
    old = {key: value for key, value in snapshot.items() if key != "translations"}
    assert Questionnaire.from_dict(old).localized("es").element("data").title == (
        shipped.element("data").title)


def test_a_broken_snapshot_translation_is_refused(shipped: Questionnaire) -> None:
    snapshot = json.loads(json.dumps(shipped.to_dict()))
    code = shipped.element("industry").items[0].code
    del snapshot["translations"]["es"]["elements"]["industry"]["items"][code]["levels"]["3"]
    with pytest.raises(QuestionnaireError, match=f"{code}: missing level 3"):
        Questionnaire.from_dict(snapshot)


def run(folder: Path, *args: str) -> Any:
    app = flask.Flask("t")
    app.config["QUESTIONNAIRES"] = str(folder)
    app.cli.add_command(questionnaires_cli)
    return app.test_cli_runner().invoke(args=["questionnaires", *args])


def test_cli_check_fails_naming_the_deleted_spanish_level(shipped: Questionnaire,
                                                          folder: Path) -> None:
    assert run(folder, "check").exit_code == 0
    code = shipped.element("services").items[0].code
    edit(folder / "es" / "services.yaml", lambda d: d["items"][0]["levels"].pop(3))
    result = run(folder, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: 1 problem in questionnaires at {folder}",
        f"es/services.yaml: {code}: missing level 3",
    ]
    assert result.stdout == ""
