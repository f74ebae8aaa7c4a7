"""Load profiles (k6 calls them executors): *when* agents run, never *what* they do.

Two families reach the engine: ``ClosedProfile`` (a number of agents over time: ``target_at(t)``) and
``OpenProfile`` (sessions arriving on a schedule: ``arrivals(rng)``, capped by ``max_agents``). Presets
(spike, step, sawtooth, soak) are parsed into one of those. ``Segment`` splits any profile exactly over
processes or machines.

The public API is what ``__all__`` lists.
"""

from mcpload.profiles.arrival_rate import ArrivalRate
from mcpload.profiles.arrivals import DISTRIBUTIONS
from mcpload.profiles.base import BaseConfig, ClosedProfile, OpenProfile, Profile
from mcpload.profiles.constant_agents import ConstantAgents
from mcpload.profiles.durations import DurationError, format_duration, parse_duration
from mcpload.profiles.errors import ProfileError
from mcpload.profiles.presets import Preset, Sawtooth, Soak, Spike, StepLoad
from mcpload.profiles.ramping_agents import RampingAgents
from mcpload.profiles.ramping_arrival_rate import RampingArrivalRate
from mcpload.profiles.registry import PROFILE_TYPES, parse_profile, parse_profiles
from mcpload.profiles.segments import Segment
from mcpload.profiles.shares import Share, ShareSchedule
from mcpload.profiles.stages import Stage

__all__ = [
    "DISTRIBUTIONS",
    "PROFILE_TYPES",
    "ArrivalRate",
    "BaseConfig",
    "ClosedProfile",
    "ConstantAgents",
    "DurationError",
    "OpenProfile",
    "Preset",
    "Profile",
    "ProfileError",
    "RampingAgents",
    "RampingArrivalRate",
    "Sawtooth",
    "Segment",
    "Share",
    "ShareSchedule",
    "Soak",
    "Spike",
    "Stage",
    "StepLoad",
    "format_duration",
    "parse_duration",
    "parse_profile",
    "parse_profiles",
]
