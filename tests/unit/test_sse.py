import pytest

from mcpload.transports.sse import SSEParser


def events(*chunks: bytes, parser: SSEParser | None = None):
    p = parser or SSEParser()
    out = []
    for c in chunks:
        out.extend(p.feed(c))
    return out, p


def test_priming_event_with_empty_data_sets_id_without_dispatch():
    evs, p = events(b"id: abc\ndata: \n\n")
    # an empty data line still counts as data per WHATWG; the transport ignores blank payloads
    assert [e.data for e in evs] == [""]
    assert p.last_event_id == "abc"
    evs, p = events(b"id: only-id\n\n")
    assert evs == [] and p.last_event_id == "only-id"


def test_retry_comment_and_event_name():
    evs, p = events(b': keep-alive\nretry: 1500\nevent: message\ndata: {"a":1}\n\n')
    assert p.retry_ms == 1500
    assert len(evs) == 1 and evs[0].event == "message" and evs[0].data == '{"a":1}'


def test_invalid_retry_is_ignored():
    _, p = events(b"retry: soon\ndata: x\n\n")
    assert p.retry_ms is None


def test_multiline_data_joined_with_newline():
    evs, _ = events(b'data: {"a":\ndata: 1}\n\n')
    assert evs[0].data == '{"a":\n1}'


@pytest.mark.parametrize("sep", [b"\r\n", b"\r", b"\n"])
def test_line_endings(sep):
    raw = b"event: message" + sep + b"id: 7" + sep + b"data: hi" + sep + sep
    evs, _p = events(raw)
    assert [(e.event, e.data, e.id) for e in evs] == [("message", "hi", "7")]


def test_chunks_split_anywhere_including_crlf():
    raw = b'event: message\r\ndata: {"jsonrpc":"2.0","id":1}\r\n\r\ndata: second\r\n\r\n'
    for cut in range(1, len(raw)):
        evs, _ = events(raw[:cut], raw[cut:])
        assert [e.data for e in evs] == ['{"jsonrpc":"2.0","id":1}', "second"], cut


def test_byte_by_byte():
    raw = b"id: 1\ndata: a\n\nid: 2\ndata: b\n\n"
    evs, p = events(*(raw[i : i + 1] for i in range(len(raw))))
    assert [(e.id, e.data) for e in evs] == [("1", "a"), ("2", "b")]
    assert p.last_event_id == "2"


def test_field_without_space_and_without_colon():
    evs, _ = events(b"data:x\ndata\n\n")
    assert evs[0].data == "x\n"


def test_utf8_split_across_chunks():
    raw = "data: héllo ✓\n\n".encode()
    evs, _ = events(raw[:9], raw[9:])
    assert evs[0].data == "héllo ✓"


def test_oversize_line_is_an_error_event_and_the_stream_goes_on():
    p = SSEParser(max_event_bytes=100)
    evs = p.feed(b"data: " + b"x" * 200)
    assert [e.error for e in evs] == ["SSE event over 100 bytes"]
    assert len(p._buf) <= 1  # the line is not kept while it is skipped
    evs = p.feed(b"x" * 500 + b"\ndata: more of it\n\ndata: next\n\n")
    assert [(e.data, e.error) for e in evs] == [("next", None)]


@pytest.mark.parametrize("line", [1, 7, 1000])
def test_many_data_lines_are_bounded_as_one_event(line):
    """An event made of many short ``data:`` lines is bounded as a whole, whatever the line length."""
    p = SSEParser(max_event_bytes=10_000)
    chunk = (b"data: " + b"y" * line + b"\n") * 50
    errors = []
    for _ in range(2000 // line + 5):
        errors += [e.error for e in p.feed(chunk)]
        assert sum(len(d) for d in p._data) <= 10_000
    assert errors == ["SSE event over 10000 bytes"]  # reported once, at once
    assert [(e.data, e.error) for e in p.feed(b"\ndata: after\n\n")] == [("after", None)]


def test_event_of_exactly_the_limit_is_accepted():
    p = SSEParser(max_event_bytes=10)
    assert [(e.data, e.error) for e in p.feed(b"data: 12345\ndata: 6789\n\n")] == [("12345\n6789", None)]
    assert p.feed(b"data: 12345\ndata: 67890\n\n")[0].error is not None


def test_invalid_utf8_is_an_error_event_with_the_text_replaced():
    evs, _ = events(b'data: {"id":3,"t":"\xff"}\n\n')
    assert evs[0].error == "invalid UTF-8 in an SSE event" and evs[0].data == '{"id":3,"t":"\ufffd"}'


def test_absurd_retry_is_ignored():
    _, p = events(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert p.retry_ms is None


def test_notifications_before_response_are_separate_events():
    raw = (
        b'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n'
        b'event: message\ndata: {"jsonrpc":"2.0","id":3,"result":{}}\n\n'
    )
    evs, _ = events(raw)
    assert len(evs) == 2
