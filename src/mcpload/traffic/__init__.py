"""Traffic analysis: record real agent traffic (``record``), characterise it (``analyze``), fit a
scenario to it (``fit``) and replay it at scale (``replay``). One concept per module:

- ``trace``: the trace format (``mcpload.trace/1``), its writer and reader
- ``redact``: what of the arguments reaches a trace
- ``observer``: JSON-RPC messages → trace lines (pairs requests with answers)
- ``proxy_http`` (+ ``proxy_requests``), ``proxy_stdio``, ``record``: the recording proxies and their start/stop
- ``sessions``: sessions → conversations → batches → calls, and the gaps between them
- ``stats``: percentiles, MLE fits, the KS statistic, burstiness figures, Otsu's threshold
- ``clusters``: personas found in a trace (groups of sessions that behave alike)
- ``analysis``, ``summary_text``, ``page``: ``mcpload analyze`` and its text, JSON and HTML
- ``fit``: ``mcpload fit`` (scenario YAML); ``replay``: ``mcpload replay``; ``otlp_import``
"""
