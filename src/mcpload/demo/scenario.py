"""The built-in demo scenario (``scenario.yaml`` beside this file), pointed at a running demo server."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpload.scenario import Scenario


def demo_scenario_data(url: str, duration: str | None = None) -> dict[str, Any]:
    from mcpload.scenario.loader import read_yaml

    data: dict[str, Any] = read_yaml(files("mcpload.demo").joinpath("scenario.yaml").read_text())
    data["target"]["url"] = url
    if duration is not None:
        from mcpload.profiles.durations import parse_duration

        wanted = parse_duration(duration, "--duration")
        if wanted <= 0:
            raise ValueError(f"--duration {duration}: must be positive")
        for profile in data["profiles"]:
            stages = profile.get("stages", [])
            total = sum(parse_duration(st["duration"], "stages") for st in stages)
            for st in stages:
                st["duration"] = f"{parse_duration(st['duration'], 'stages') * wanted / total:.3f}s"
    return data


def demo_scenario(url: str, duration: str | None = None) -> Scenario:
    from mcpload.scenario import Scenario

    return Scenario.from_dict(demo_scenario_data(url, duration), source="<built-in demo scenario>")
