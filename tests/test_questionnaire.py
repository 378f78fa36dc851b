"""The questionnaire content and its loader: shipped files, snapshots, validation, CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import pytest
import yaml

from survey.cli.content import questionnaires_cli
from survey.questionnaire import (
    ELEMENT_KEYS,
    Questionnaire,
    QuestionnaireError,
    default_folder,
    load_questionnaire,
)

SHIPPED = Path(__file__).resolve().parent.parent / "questionnaires"

TITLES = {
    "data": "Driven by High-Quality Data",
    "vision": "Founded on a Shared, Regional Vision",
    "industry": "Directed by Industry",
    "alignment": "Lead to Strategic Alignment",
    "services": "Transform How Services (jobseeker/worker and employer) are Delivered",
    "measured": "Measured, Improved and Sustained",
}


@pytest.fixture(scope="module")
def shipped() -> Questionnaire:
    return load_questionnaire(SHIPPED)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the shipped content, to break one thing in."""
    target = tmp_path / "questionnaires"
    shutil.copytree(SHIPPED, target)
    return target


def edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Load one YAML file of the copy, change it in place, write it back."""
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(folder)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(folder: Path) -> str:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


# --- the shipped content ---------------------------------------------------------------


def test_shipped_elements_in_order_with_exact_titles(shipped: Questionnaire) -> None:
    assert [element.key for element in shipped.elements] == list(ELEMENT_KEYS)
    assert [element.order for element in shipped.elements] == [1, 2, 3, 4, 5, 6]
    assert {element.key: element.title for element in shipped.elements} == TITLES
    assert all(element.description for element in shipped.elements)


def test_shipped_items_have_a_full_rubric(shipped: Questionnaire) -> None:
    for element in shipped.elements:
        assert 5 <= len(element.items) <= 8, element.key
        for item in element.items:
            assert re.fullmatch(rf"{element.key}-[1-9][0-9]*", item.code)
            assert item.element_key == element.key
            assert item.text.strip()
            assert [value for value, _ in item.levels] == [1, 2, 3, 4]
            descriptors = [descriptor for _, descriptor in item.levels]
            assert all(descriptors), item.code
            assert len(set(descriptors)) == 4, f"{item.code}: descriptors must differ"
    assert len({item.code for item in shipped.items}) == len(shipped.items)


def test_shipped_scale(shipped: Questionnaire) -> None:
    scale = shipped.scale
    assert [(level.value, level.label, level.min_score) for level in scale.levels] == [
        (1, "Exploring", 1.0), (2, "Building", 1.75), (3, "Implementing", 2.5),
        (4, "Sustaining", 3.25),
    ]
    assert all(level.description for level in scale.levels)
    assert scale.values == (1, 2, 3, 4)
    assert scale.dont_know_label == "Don't know"
    assert scale.not_applicable_label == "Not applicable"
    assert (scale.min_respondents, scale.change_threshold, scale.sustained_level) == (3, 0.25, 3)


def test_default_folder_is_the_shipped_content() -> None:
    assert default_folder().resolve() == SHIPPED
    assert load_questionnaire(default_folder()) == load_questionnaire(SHIPPED)


def test_lookups(shipped: Questionnaire) -> None:
    assert shipped.element("industry").title == "Directed by Industry"
    item = shipped.item("data-2")
    assert item.element_key == "data"
    assert item.descriptor(3) == dict(item.levels)[3]
    assert shipped.scale.level(2).label == "Building"
    assert shipped.items[0].code == "data-1" and shipped.items[-1].code.startswith("measured-")
    with pytest.raises(KeyError):
        shipped.element("nope")
    with pytest.raises(KeyError):
        shipped.item("data-99")
    with pytest.raises(KeyError):
        item.descriptor(5)
    with pytest.raises(KeyError):
        shipped.scale.level(0)


@pytest.mark.parametrize(("count", "needed"), [(5, 3), (6, 3), (7, 4), (8, 4)])
def test_half_threshold_rounds_up(shipped: Questionnaire, count: int, needed: int) -> None:
    element = shipped.element("data")
    items = (element.items * 2)[:count]
    assert type(element)(element.key, element.title, element.order, element.description,
                         items).half_threshold == needed


@pytest.mark.parametrize(
    ("score", "label"),
    [(1.0, "Exploring"), (1.74, "Exploring"), (1.75, "Building"), (2.49, "Building"),
     (2.5, "Implementing"), (3.24, "Implementing"), (3.25, "Sustaining"), (4.0, "Sustaining")],
)
def test_stage_boundaries(shipped: Questionnaire, score: float, label: str) -> None:
    stage = shipped.scale.stage(score)
    assert stage is not None and stage.label == label


def test_stage_of_no_score_is_none(shipped: Questionnaire) -> None:
    assert shipped.scale.stage(None) is None


# --- snapshots and the content hash ----------------------------------------------------


def test_content_hash_is_stable(shipped: Questionnaire, folder: Path) -> None:
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", shipped.content_hash)
    assert load_questionnaire(SHIPPED).content_hash == shipped.content_hash
    assert load_questionnaire(folder).content_hash == shipped.content_hash


def test_content_hash_changes_when_text_changes(shipped: Questionnaire, folder: Path) -> None:
    edit(folder, "vision.yaml", lambda d: d["items"][2].update(text="A reworded statement."))
    changed = load_questionnaire(folder)
    assert changed.item("vision-3").text == "A reworded statement."
    assert changed.content_hash != shipped.content_hash


def test_content_hash_changes_when_a_descriptor_changes(
    shipped: Questionnaire, folder: Path
) -> None:
    edit(folder, "measured.yaml", lambda d: d["items"][0]["levels"].update({4: "Changed."}))
    assert load_questionnaire(folder).content_hash != shipped.content_hash


def test_to_dict_has_the_dump_shape(shipped: Questionnaire) -> None:
    data = shipped.to_dict()
    assert set(data) == {"scale", "elements", "translations"}
    assert set(data["translations"]) == {"es"}
    assert set(data["scale"]) == {
        "levels", "dont_know_label", "not_applicable_label", "min_respondents",
        "change_threshold", "sustained_level",
    }
    assert data["scale"]["levels"][1] == {
        "value": 2, "label": "Building", "description": shipped.scale.level(2).description,
        "min_score": 1.75,
    }
    element = data["elements"][0]
    assert set(element) == {"key", "title", "order", "description", "items"}
    assert set(element["items"][0]) == {"code", "text", "levels", "help"}
    assert list(element["items"][0]["levels"]) == ["1", "2", "3", "4"]


def test_round_trip_through_json(shipped: Questionnaire) -> None:
    snapshot = json.loads(json.dumps(shipped.to_dict()))
    restored = Questionnaire.from_dict(snapshot)
    assert restored == shipped
    assert restored.to_dict() == shipped.to_dict()
    assert restored.content_hash == shipped.content_hash
    assert restored.item("services-1").help == shipped.item("services-1").help
    assert restored.localized("es").to_dict() == shipped.localized("es").to_dict()


def test_from_dict_validates_like_the_loader(shipped: Questionnaire) -> None:
    snapshot = shipped.to_dict()
    code = snapshot["elements"][1]["items"][0]["code"]
    del snapshot["elements"][1]["items"][0]["levels"]["2"]
    snapshot["scale"]["min_respondents"] = 1
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(snapshot)
    text = str(caught.value)
    assert f"{code}: missing the descriptor for level 2" in text
    assert "min_respondents" in text and "never be below 3" in text


def test_loader_imports_neither_flask_nor_sqlalchemy() -> None:
    # Both content modules, loaded by path (the survey package itself is a Flask app).
    package = Path(__file__).resolve().parent.parent / "survey"
    code = "import importlib.util, sys\n"
    for name in ("questionnaire", "content_translation"):
        code += (
            f"spec = importlib.util.spec_from_file_location('survey.{name}', "
            f"{str(package / (name + '.py'))!r})\n"
            f"mod = importlib.util.module_from_spec(spec); sys.modules['survey.{name}'] = mod\n"
            "spec.loader.exec_module(mod)\n"
        )
    code += (
        f"q = sys.modules['survey.questionnaire'].load_questionnaire({str(SHIPPED)!r})\n"
        "assert q.localized('es').scale.dont_know_label == 'No sé'\n"
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- validation: one broken thing at a time ---------------------------------------------


def test_yaml_syntax_error_names_file_and_line(folder: Path) -> None:
    path = folder / "industry.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = "title: [unclosed"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = only_problem(folder)
    assert problem.startswith("industry.yaml: YAML syntax error at line ")
    assert re.search(r"line (5|6|7)\b", problem), problem


def test_duplicate_yaml_key_is_an_error(folder: Path) -> None:
    path = folder / "alignment.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "title: Again\n", encoding="utf-8")
    problem = only_problem(folder)
    assert problem.startswith("alignment.yaml: YAML syntax error at line ")
    assert "duplicate key 'title'" in problem


def test_missing_scale_file(folder: Path) -> None:
    (folder / "scale.yaml").unlink()
    assert "scale.yaml: missing" in only_problem(folder)


def test_missing_element_file(folder: Path) -> None:
    (folder / "services.yaml").unlink()
    problem = only_problem(folder)
    assert problem.startswith("services.yaml: missing")
    assert "'services'" in problem


def test_file_with_unknown_element_key(folder: Path) -> None:
    text = (folder / "data.yaml").read_text(encoding="utf-8")
    (folder / "extra.yaml").write_text(text.replace("key: data", "key: extra"), encoding="utf-8")
    problems = problems_of(folder)
    assert any(p.startswith("extra.yaml: unknown element key 'extra'") for p in problems)


def test_duplicate_element_key(folder: Path) -> None:
    shutil.copy(folder / "data.yaml", folder / "data-copy.yaml")
    problems = problems_of(folder)
    assert "data-copy.yaml: duplicate element key 'data', also in data.yaml" in problems
    assert any(p.startswith("data-copy.yaml: data-1: duplicate item code") for p in problems)


def test_wrong_key_in_an_expected_file_is_not_also_reported_missing(folder: Path) -> None:
    edit(folder, "data.yaml", lambda d: d.update(key="datum"))
    assert only_problem(folder).startswith("data.yaml: unknown element key 'datum'")


def test_snapshot_missing_an_element(shipped: Questionnaire) -> None:
    snapshot = shipped.to_dict()
    del snapshot["elements"][5]
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(snapshot)
    assert caught.value.problems == ["snapshot: missing element 'measured'"]


def test_key_must_match_file_name(folder: Path) -> None:
    (folder / "vision.yaml").rename(folder / "shared-vision.yaml")
    problem = only_problem(folder)
    assert problem.startswith("shared-vision.yaml: key 'vision' does not match the file name")


@pytest.mark.parametrize("title", [None, "", "   "])
def test_missing_or_empty_title(folder: Path, title: str | None) -> None:
    def change(data: dict[str, Any]) -> None:
        if title is None:
            del data["title"]
        else:
            data["title"] = title

    edit(folder, "vision.yaml", change)
    assert only_problem(folder) == "vision.yaml: missing or empty 'title'"


def test_non_integer_order(folder: Path) -> None:
    edit(folder, "data.yaml", lambda d: d.update(order="first"))
    assert only_problem(folder) == "data.yaml: 'order' must be a whole number, not 'first'"


def test_duplicate_order(folder: Path) -> None:
    edit(folder, "vision.yaml", lambda d: d.update(order=1))
    assert only_problem(folder) == "vision.yaml: duplicate order 1, also in data.yaml"


@pytest.mark.parametrize("count", [4, 9])
def test_item_count_outside_five_to_eight(folder: Path, count: int) -> None:
    def change(data: dict[str, Any]) -> None:
        items = data["items"]
        while len(items) < count:
            extra = dict(items[0], code=f"industry-x{len(items)}")
            items.append(extra)
        del items[count:]

    edit(folder, "industry.yaml", change)
    assert only_problem(folder) == (
        f"industry.yaml: has {count} items; an element needs 5 to 8"
    )


def test_duplicate_item_code_across_files(folder: Path) -> None:
    edit(folder, "measured.yaml", lambda d: d["items"][3].update(code="data-2"))
    assert only_problem(folder) == (
        "measured.yaml: data-2: duplicate item code, also in data.yaml"
    )


def test_missing_item_code(folder: Path) -> None:
    edit(folder, "data.yaml", lambda d: d["items"][1].pop("code"))
    problem = only_problem(folder)
    assert problem.startswith("data.yaml: item #2: missing or invalid 'code'")


def test_missing_item_text(shipped: Questionnaire, folder: Path) -> None:
    code = shipped.element("services").items[1].code
    edit(folder, "services.yaml", lambda d: d["items"][1].pop("text"))
    assert only_problem(folder) == f"services.yaml: {code}: missing or empty 'text'"


def test_wrong_level_count_and_missing_descriptor(shipped: Questionnaire, folder: Path) -> None:
    code = shipped.element("alignment").items[4].code
    edit(folder, "alignment.yaml", lambda d: d["items"][4]["levels"].pop(3))
    problems = problems_of(folder)
    assert problems == [
        f"alignment.yaml: {code}: wrong level count: 3 descriptors, "
        "the scale has 4 levels (1, 2, 3, 4)",
        f"alignment.yaml: {code}: missing the descriptor for level 3",
    ]


def test_empty_descriptor(folder: Path) -> None:
    edit(folder, "data.yaml", lambda d: d["items"][0]["levels"].update({2: "  "}))
    assert only_problem(folder) == "data.yaml: data-1: empty descriptor for level 2"


def test_extra_level(shipped: Questionnaire, folder: Path) -> None:
    code = shipped.element("vision").items[5].code
    edit(folder, "vision.yaml", lambda d: d["items"][5]["levels"].update({5: "Beyond."}))
    problems = problems_of(folder)
    assert f"vision.yaml: {code}: extra level 5, not on the scale" in problems
    assert any(p.startswith(f"vision.yaml: {code}: wrong level count: 5") for p in problems)


def test_levels_not_a_mapping(shipped: Questionnaire, folder: Path) -> None:
    code = shipped.element("data").items[2].code
    edit(folder, "data.yaml", lambda d: d["items"][2].update(levels=["a", "b", "c", "d"]))
    assert only_problem(folder) == (
        f"data.yaml: {code}: 'levels' must map each level value to a descriptor"
    )


def test_unknown_top_level_key_in_element_file(folder: Path) -> None:
    edit(folder, "industry.yaml", lambda d: d.update(descripton="typo"))
    problem = only_problem(folder)
    assert problem.startswith("industry.yaml: unknown key 'descripton'")


def test_unknown_key_in_item(folder: Path) -> None:
    edit(folder, "industry.yaml", lambda d: d["items"][0].update(hlep="typo"))
    assert only_problem(folder).startswith("industry.yaml: industry-1: unknown key 'hlep'")


def test_unknown_key_in_scale(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(min_respondent=5))
    assert only_problem(folder).startswith("scale.yaml: unknown key 'min_respondent'")


def test_min_respondents_never_below_three(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(min_respondents=2))
    problem = only_problem(folder)
    assert problem.startswith("scale.yaml: 'min_respondents' is 2")
    assert "never be below 3" in problem


@pytest.mark.parametrize("threshold", [0, -0.25, "big"])
def test_change_threshold_must_be_positive(folder: Path, threshold: Any) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(change_threshold=threshold))
    problem = only_problem(folder)
    assert problem.startswith("scale.yaml: 'change_threshold' must be a number above 0")


def test_sustained_level_must_be_a_level(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(sustained_level=7))
    assert only_problem(folder).startswith("scale.yaml: 'sustained_level' must be one of the level")


def test_level_values_must_ascend(folder: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["levels"][1]["value"], data["levels"][2]["value"] = 3, 2

    edit(folder, "scale.yaml", change)
    assert "scale.yaml: level values must ascend (3 then 2)" in problems_of(folder)


def test_min_scores_must_ascend(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d["levels"][2].update(min_score=1.5))
    assert only_problem(folder) == (
        "scale.yaml: min_score must ascend (Building 1.75 then Implementing 1.5)"
    )


def test_scale_needs_two_levels(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(levels=d["levels"][:1], sustained_level=1))
    problems = problems_of(folder)
    assert "scale.yaml: 'levels' must list at least 2 levels, lowest first" in problems


def test_a_three_level_scale_is_accepted_when_items_match(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(levels=d["levels"][:3]))
    for key in ELEMENT_KEYS:
        edit(folder, f"{key}.yaml", lambda d: [item["levels"].pop(4) for item in d["items"]])
    shutil.rmtree(folder / "es")  # a translation is optional: without one, English only
    questionnaire = load_questionnaire(folder)
    assert questionnaire.scale.values == (1, 2, 3)
    assert questionnaire.scale.stage(4.0).label == "Implementing"


def test_every_problem_is_reported_at_once(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(min_respondents=1))
    edit(folder, "data.yaml", lambda d: d.pop("title"))
    edit(folder, "services.yaml", lambda d: d["items"][0]["levels"].pop(1))
    (folder / "measured.yaml").unlink()
    problems = problems_of(folder)
    files = {problem.split(":", 1)[0] for problem in problems}
    assert files == {"scale.yaml", "data.yaml", "services.yaml", "measured.yaml"}


def test_folder_not_found(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="questionnaire folder not found"):
        load_questionnaire(tmp_path / "nowhere")


# --- the command line ------------------------------------------------------------------


def run(folder: Path, *args: str) -> Any:
    app = flask.Flask("t")
    app.config["QUESTIONNAIRES"] = str(folder)
    app.cli.add_command(questionnaires_cli)
    return app.test_cli_runner().invoke(args=["questionnaires", *args])


def test_cli_check_ok(shipped: Questionnaire) -> None:
    result = run(SHIPPED, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"questionnaires OK: 6 elements, {len(shipped.items)} items, 6 outcome measures, "
        f"translated into es, "
        f"content {shipped.content_hash}"
    )


def test_cli_check_reports_every_problem(folder: Path) -> None:
    edit(folder, "data.yaml", lambda d: d["items"][0].pop("text"))
    (folder / "vision.yaml").unlink()
    result = run(folder, "check")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: 2 problems in questionnaires at {folder}"
    assert "data.yaml: data-1: missing or empty 'text'" in lines
    assert any(line.startswith("vision.yaml: missing") for line in lines)
    assert result.stdout == ""


def test_cli_dump_prints_the_content_as_json(shipped: Questionnaire) -> None:
    result = run(SHIPPED, "dump")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == shipped.to_dict()
    assert [element["key"] for element in data["elements"]] == list(ELEMENT_KEYS)
    assert data["elements"][0]["items"][0]["levels"]["1"]
    assert "Don't know" in result.stdout


def test_cli_dump_on_broken_folder_fails_like_check(folder: Path) -> None:
    edit(folder, "scale.yaml", lambda d: d.update(sustained_level=9))
    result = run(folder, "dump")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error: 1 problem in questionnaires at {folder}"
    assert result.stdout == ""
