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


def test_oversize_line_raises():
    p = SSEParser(max_event_bytes=100)
    with pytest.raises(ValueError):
        p.feed(b"data: " + b"x" * 200)


def test_notifications_before_response_are_separate_events():
    raw = (
        b'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n'
        b'event: message\ndata: {"jsonrpc":"2.0","id":3,"result":{}}\n\n'
    )
    evs, _ = events(raw)
    assert len(evs) == 2
