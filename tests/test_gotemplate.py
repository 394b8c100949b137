"""`--format` as the docker CLI runs it: cases from docker/cli formatter/container_test.go."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.views.gotemplate import fields_used, go_json, render, render_rows, tabwrite

HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Size": "SIZE", "State": "STATE",
           "Names": "NAMES"}
ROWS = [{"ID": "containerID1", "Image": "ubuntu", "Size": "0B", "State": "running",
         "Names": "foobar_baz", "Ports": "0.0.0.0:80->80/tcp"},
        {"ID": "containerID2", "Image": "ubuntu", "Size": "0B", "State": "running",
         "Names": "foobar_bar", "Ports": ""}]


@pytest.mark.parametrize(("template", "rows", "expected"), [
    ("table {{.Image}}", ROWS, "IMAGE\nubuntu\nubuntu\n"),
    ("table {{.State}}", ROWS, "STATE\nrunning\nrunning\n"),
    ("{{.Image}}", ROWS, "ubuntu\nubuntu\n"),
    ("{{.Image}}", [], ""),
    ("table {{.Image}}", [], "IMAGE\n"),
    ("table {{.Image}}\t{{.Size}}", [], "IMAGE     SIZE\n"),
    ("table {{.Image}}\\t{{.Size}}", [], "IMAGE     SIZE\n"),
    ("table {{.ID}}\\t{{.Names}}", ROWS,
     "CONTAINER ID   NAMES\ncontainerID1   foobar_baz\ncontainerID2   foobar_bar\n"),
    ("{{json .ID}}", ROWS[:1], '"containerID1"\n'),
    ("{{upper .Names}} {{truncate .ID 5}}", ROWS[:1], "FOOBAR_BAZ conta\n"),
])
def test_rows_render_as_the_cli_renders_them(template: str, rows: list[dict[str, str]],
                                             expected: str) -> None:
    assert render_rows(template, rows, HEADERS) == expected


def test_json_of_a_whole_row_is_go_json_marshal() -> None:
    assert render_rows("{{json .}}", ROWS[:1], HEADERS) == (
        '{"ID":"containerID1","Image":"ubuntu","Size":"0B","State":"running",'
        '"Names":"foobar_baz","Ports":"0.0.0.0:80-\\u003e80/tcp"}\n')
    assert render_rows("json", ROWS[:1], HEADERS) == render_rows("{{json .}}", ROWS[:1], HEADERS)
    # the CLI's `json` function does not escape HTML; only json.Marshal of a row does
    assert render("{{json .Ports}}", ROWS[0]) == '"0.0.0.0:80->80/tcp"'
    assert go_json({"a": [1, None, True], "b": "é\u2028"}) == '{"a":[1,null,true],"b":"é\\u2028"}'


def test_tabwriter_pads_to_ten_with_three_spaces_and_leaves_the_last_cell() -> None:
    assert tabwrite(["A\tBB\tC", "AAAAAAAAAAA\tB\t"]) == (
        "A" + " " * 13 + "BB" + " " * 8 + "C\n" + "AAAAAAAAAAA   B" + " " * 9 + "\n")


def test_inspect_style_lookups_and_errors() -> None:
    document = {"State": {"Running": True, "Health": None}, "Config": {"Env": ["A=1"]}}
    assert render("{{.State.Running}} {{.State.Health}} {{.Config.Env}}", document) == (
        "true <nil> [A=1]")
    assert render("{{json .State}}", document) == '{"Running":true,"Health":null}'
    with pytest.raises(UsageError, match="no field `Nope`"):
        render("{{.Nope}}", document)
    with pytest.raises(UsageError, match="not supported"):
        render("{{range .Config.Env}}{{.}}{{end}}", document)


def test_label_is_a_method_of_a_row_and_not_a_json_field() -> None:
    labels = {"team": "api", "a.b.tier": "db"}
    row = {"Names": "web", "Label": lambda name: labels.get(name, "")}
    label = ("Label",)
    assert render_rows('table {{.Names}}\\t{{.Label "a.b.tier"}}', [row], HEADERS,
                       label) == "NAMES     tier\nweb       db\n"
    assert render_rows('{{.Label "team"}}{{.Label "none"}}', [row], HEADERS, label) == "api\n"
    assert render_rows("{{json .}}", [row], HEADERS, label) == '{"Names":"web"}\n'
    with pytest.raises(UsageError, match="quoted name"):
        render("{{.Label}}", row)


def test_an_unknown_field_is_refused_even_with_no_rows() -> None:
    with pytest.raises(UsageError, match="`Bogus` is not a field here"):
        render_rows("{{.Bogus}}", [], HEADERS)


def test_fields_used_sees_size_and_the_whole_row() -> None:
    assert fields_used("table {{.Names}}\t{{.Size}}") == {"Names", "Size"}
    assert "*" in fields_used("{{json .}}")
