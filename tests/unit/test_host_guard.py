"""The host guard: a notice for a target that is not loopback, allow lists that refuse the others."""

import pytest

from mcpload import host_guard
from mcpload.cli import plan as cli_plan
from mcpload.scenario import Scenario, ScenarioError


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "api.localhost"])
def test_loopback(host):
    assert host_guard.is_loopback(host)
    assert host_guard.notice(host, "x") is None
    host_guard.check(host, ["only.example.com"])  # loopback is always allowed


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "192.0.2.1", "example.com", "localhost.example.com", "::2", "[::2]", "0.0.0.0", "", "[]"]
)
def test_not_loopback(host):
    assert not host_guard.is_loopback(host)
    assert host_guard.notice(host, "up to 5 agents") == f"mcpload: target {host} is not this machine: up to 5 agents"


def test_target_host():
    assert host_guard.target_host("http://EXAMPLE.com:8000/mcp") == "example.com"
    assert host_guard.target_host("http://[::1]:8000/mcp") == "::1"
    assert host_guard.target_host(None) is None


def test_allow_lists_are_united_from_three_places():
    env = {host_guard.ENV: " b.example.com, ,C.example.com."}
    assert host_guard.allow_list(["A.example.com"], ("d.example.com",), env) == [
        "a.example.com",
        "b.example.com",
        "c.example.com",
        "d.example.com",
    ]
    assert host_guard.allow_list(None, (), {}) == []


def test_check():
    host_guard.check("prod.example.com", [])  # no list: permissive
    host_guard.check("prod.example.com", ["prod.example.com"])
    host_guard.check("a.b.example.com", ["*.example.com"])
    host_guard.check(None, ["x"])  # stdio
    with pytest.raises(host_guard.HostNotAllowed, match=r"prod\.example\.com is not allowed"):
        host_guard.check("prod.example.com", ["staging.example.com"])
    with pytest.raises(host_guard.HostNotAllowed):
        host_guard.check("example.com", ["*.example.com"])


def scenario(url: str, **extra) -> Scenario:
    data = {
        "target": {"url": url},
        "agents": {"a": {"workflow": [{"call": "t"}, {"think": "1s"}], "idle": "1s"}},
        "profiles": [{"type": "constant-agents", "agents": 7, "duration": "10s"}],
        **extra,
    }
    return Scenario.from_dict(data, env={})


def test_guard_prints_one_notice_for_a_remote_target(capsys):
    s = scenario("http://mcp.example.com/mcp")
    cli_plan.guard_host(s, s.to_target(), None)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mcpload: target mcp.example.com is not this machine: up to 7 agents, peak ~4 calls/s"]


def test_guard_is_silent_for_loopback(capsys):
    s = scenario("http://127.0.0.1:1/mcp", allow_hosts=["x.example.com"])
    cli_plan.guard_host(s, s.to_target(), None)
    assert capsys.readouterr().err == ""


def test_scenario_allow_hosts_refuses_a_url_override(capsys):
    import typer

    s = scenario("http://staging.example.com/mcp", allow_hosts=["staging.example.com"])
    target = s.to_target({"url": "http://prod.example.com/mcp"})
    with pytest.raises(typer.Exit) as exc:
        cli_plan.guard_host(s, target, None)
    assert exc.value.exit_code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "prod.example.com is not allowed" in err[0]


@pytest.mark.parametrize("value", ["x.example.com", [], [""], [3]])
def test_bad_allow_hosts(value):
    with pytest.raises(ScenarioError, match="allow_hosts"):
        scenario("http://127.0.0.1:1/mcp", allow_hosts=value)


def test_every_listener_asks_the_one_loopback_test():
    # Prometheus, the dashboard and the CLI's listeners (--listen, serve-demo --host) had a copy each,
    # which disagreed on "[::1]" and "*.localhost": one test now
    import inspect

    from mcpload.cli import support
    from mcpload.outputs import dashboard, prometheus

    assert dashboard.is_loopback is host_guard.is_loopback
    assert prometheus.is_loopback is host_guard.is_loopback
    assert "is_loopback(host)" in inspect.getsource(support._warn_if_exposed)
