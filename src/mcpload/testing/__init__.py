"""Load tests from Python: ``run_load`` (a scenario or an ad-hoc load → ``Results``), the typed view of
a results document, and the pytest plugin (``pytest_plugin``: the ``mcpload_run`` fixture)."""
