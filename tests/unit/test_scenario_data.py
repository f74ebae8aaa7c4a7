"""Data files: CSV and JSON Lines, the three modes, wraps, and bad files named with their line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mcpload.scenario import DataSource, ScenarioError
from mcpload.scenario.data import parse_data


@pytest.fixture
def users_csv(tmp_path: Path) -> Path:
    path = tmp_path / "users.csv"
    path.write_text('name,token\nann,"a,1"\nbob,b2\n\ncid,c3\n', encoding="utf-8")
    return path


def test_csv_rows_are_dicts_of_strings(users_csv):
    source = DataSource("users", users_csv, "sequential")
    assert len(source) == 3
    assert source.rows[0] == {"name": "ann", "token": "a,1"}


def test_jsonl_rows_keep_their_types(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": 1, "tags": ["a"]}\n\n{"id": 2, "tags": []}\n', encoding="utf-8")
    assert DataSource("docs", path).rows == ({"id": 1, "tags": ["a"]}, {"id": 2, "tags": []})


def test_sequential_shares_one_cursor_and_counts_wraps(users_csv):
    source = DataSource("users", users_csv, "sequential")
    rng = random.Random(1)
    names = [source.next_row(agent, rng)["name"] for agent in (0, 1, 0, 5, 2)]
    assert names == ["ann", "bob", "cid", "ann", "bob"]
    assert source.wraps == 1


def test_random_uses_the_agent_rng(users_csv):
    source = DataSource("users", users_csv, "random")
    first = [source.next_row(0, random.Random(9))["name"] for _ in range(5)]
    rng_a, rng_b = random.Random(4), random.Random(4)
    assert [source.next_row(0, rng_a) for _ in range(20)] == [source.next_row(0, rng_b) for _ in range(20)]
    assert len(set(first)) == 1  # a fresh rng with the same seed gives the same first row
    assert source.wraps == 0


def test_unique_per_agent_wraps_past_the_last_row(users_csv):
    source = DataSource("users", users_csv, "unique-per-agent")
    rng = random.Random(1)
    assert [source.next_row(i, rng)["name"] for i in range(3)] == ["ann", "bob", "cid"]
    assert source.wraps == 0
    assert source.next_row(0, rng)["name"] == "ann"  # the same agent always gets its own row
    assert source.next_row(4, rng)["name"] == "bob"  # agent 4 shares agent 1's row
    assert source.wraps == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "x,y\n1,2\n3\n", "a.csv line 3: expected 2 fields, got 1"),
        ("a.csv", "x,x\n1,2\n", "a.csv line 1: the header row needs distinct, non-empty column names"),
        ("a.csv", "", "a.csv: no rows"),
        ("a.csv", "x,y\n", "a.csv: no rows"),
        ("a.jsonl", '{"a": 1}\n{"a": \n', "a.jsonl line 2: invalid JSON: Expecting value (column 7)"),
        ("a.jsonl", '{"a": 1}\n[1, 2]\n', "a.jsonl line 2: expected a JSON object, got list"),
        ("a.txt", "x", "a.txt: unknown data file type '.txt' (use .csv or .jsonl)"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        DataSource("d", path)
    assert str(info.value) == f"{tmp_path}/{message}"


def test_parse_data_section(tmp_path, users_csv):
    sources = parse_data({"users": {"file": "users.csv", "mode": "random"}, "more": "users.csv"}, "data", tmp_path)
    assert sources["users"].mode == "random"
    assert sources["more"].mode == "sequential"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"users": {"file": "users.csv", "mode": "sequental"}},
            "data.users.mode: unknown mode 'sequental' (did you mean 'sequential'?)",
        ),
        ({"users": {"fil": "users.csv"}}, "data.users: unknown key 'fil' (did you mean 'file'?)"),
        ({"users": {"mode": "random"}}, "data.users: missing required key 'file'"),
        (
            {"my-users": "users.csv"},
            "data.my-users: data source names must be identifiers (letters, digits, _), got 'my-users'",
        ),
        ({"users": "nope.csv"}, "data.users.file: {dir}/nope.csv: cannot read: No such file or directory"),
        ({"users": "bad.csv"}, "data.users.file: {dir}/bad.csv line 2: expected 1 fields, got 2"),
    ],
)
def test_parse_data_errors(tmp_path, users_csv, value, message):
    (tmp_path / "bad.csv").write_text("x\n1,2\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        parse_data(value, "data", tmp_path)
    assert str(info.value) == message.format(dir=tmp_path)
