"""mcpload import otlp: MCP semantic-convention spans become a trace; secrets stay out; junk is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from mcpload.traffic.otlp_import import OtlpImportError, import_otlp
from mcpload.traffic.redact import Redactor
from mcpload.traffic.trace import read_trace

SPANS = Path(__file__).parent / "data" / "otlp-spans.json"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_spans_become_calls_client_side_only(tmp_path):
    calls, _ = import_otlp(SPANS, tmp_path / "t.jsonl", Redactor())
    trace = read_trace(tmp_path / "t.jsonl")
    tools = trace.tool_calls()
    assert calls == 2 and [c["tool"] for c in tools] == ["search", "fetch"]  # the server span of fetch is dropped
    assert [c["outcome"] for c in tools] == ["ok", "tool_error"]
    assert tools[0]["latency"] == pytest.approx(0.05) and tools[1]["t"] == pytest.approx(1.0)
    assert tools[0]["arguments"]["q"] == "x" and tools[0]["arguments"]["api_key"].startswith("redacted:")
    text = (tmp_path / "t.jsonl").read_text()
    assert "SESSION-SECRET" not in text and "k-123" not in text


def test_collector_file_export_one_document_per_line(tmp_path):
    doc = orjson.loads(SPANS.read_bytes())
    lines = tmp_path / "spans.jsonl"
    lines.write_bytes(orjson.dumps(doc) + b"\n" + orjson.dumps(doc) + b"\n")
    calls, _ = import_otlp(lines, tmp_path / "t.jsonl", Redactor(keep_args=False))
    assert calls == 4
    assert all("arguments" not in c for c in read_trace(tmp_path / "t.jsonl").calls)


@pytest.mark.parametrize(
    "content", [b"not json", b'{"resourceSpans": []}', b"[1, 2]", b'{"resourceSpans": [{"scopeSpans": 3}]}']
)
def test_junk_is_one_clear_error(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(OtlpImportError, match=str(bad)):
        import_otlp(bad, tmp_path / "t.jsonl", Redactor())


def test_cli_exit_code_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-m", "mcpload.cli", "import", "otlp", str(bad), "-o", str(tmp_path / "t")],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr and str(bad) in done.stderr
