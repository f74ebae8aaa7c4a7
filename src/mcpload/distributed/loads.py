"""Which load a run uses: the agents in this process, forked worker processes or Ray actors.

The engine runs whatever ``Load`` it is given (``run_scenario(load=...)``) and knows nothing of this
package; the command line and the public ``mcpload.run_scenario`` make the choice here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpload.distributed.adaptive import AdaptiveLoad, AdaptPolicy
from mcpload.distributed.remote import RemoteLoad
from mcpload.distributed.worker import Recipe, SegmentWorker
from mcpload.engine.execute import run_scenario as run_with_load
from mcpload.engine.load import Load, LoadContext, LoadFactory, build_local_load
from mcpload.engine.runner import RunReport
from mcpload.engine.timing import planned_duration
from mcpload.engine.world import prepare_world
from mcpload.profiles import Segment, ShareSchedule

if TYPE_CHECKING:
    from mcpload.distributed.worker_processes import ProcessHandle
    from mcpload.scenario import Scenario


def split_load(
    workers: int = 1,
    ray: str | bool | None = None,
    recipe: Recipe | None = None,
    adaptive: AdaptPolicy | bool = False,
) -> LoadFactory | None:
    """The load factory for ``run_scenario(load=...)``, or None for the engine's default (this process).

    Args:
        workers: split this process's segment over so many forked worker processes (the coordinator
            merges their data every second; 1 runs the agents in this process). With Ray: actors per
            segment, 0 meaning one per CPU of the cluster.
        ray: run the segments as Ray actors: True or ``"auto"`` joins or starts a local cluster, else a
            cluster address. Needs ``recipe`` and the ``mcpload[ray]`` extra.
        recipe: a picklable callable returning ``(scenario, target)``: what a Ray actor, or a worker
            added during the run, rebuilds the run from.
        adaptive: ``--workers auto``: add worker processes during the run when a process runs hot (True
            for the default ``AdaptPolicy``). Needs ``recipe``; not with Ray.
    """
    if adaptive and not ray:
        if recipe is None:
            raise ValueError("adding workers during a run needs a recipe: a callable returning (scenario, target)")
        policy = adaptive if isinstance(adaptive, AdaptPolicy) else AdaptPolicy()
        return _adaptive_load(workers, recipe, policy)
    if ray:
        address = None if ray in (True, "auto") else str(ray)

        async def ray_load(ctx: LoadContext) -> Load:
            from mcpload.distributed.ray_backend import start_ray_workers

            handles = await start_ray_workers(address, recipe, ctx.info, ctx.seed, ctx.segment, workers, ctx.secrets)
            return RemoteLoad(handles, "ray")

        return ray_load
    if workers > 1:

        async def process_load(ctx: LoadContext) -> Load:
            return RemoteLoad(await _fork_workers(ctx, workers, adaptive=False), "processes")

        return process_load
    return None


def _adaptive_load(workers: int, recipe: Recipe, policy: AdaptPolicy) -> LoadFactory:
    async def adaptive_load(ctx: LoadContext) -> Load:
        from mcpload.distributed.worker_processes import SpawnRecipe

        spawn = SpawnRecipe(recipe, ctx.info, ctx.seed, ctx.secrets, SpawnRecipe.digest_of(ctx.scenario.source))
        end_s = planned_duration(ctx.scenario)
        if workers <= 1:
            local = build_local_load(ctx, ShareSchedule(ctx.segment, fixed=False))
            remote = RemoteLoad([], "processes", recorder=local.recorder, on_gauges=local.set_elsewhere)
            return AdaptiveLoad(local, remote, spawn, end_s, policy)
        handles = await _fork_workers(ctx, workers, adaptive=True)
        return AdaptiveLoad(None, RemoteLoad(handles, "processes"), spawn, end_s, policy)

    return adaptive_load


async def _fork_workers(ctx: LoadContext, workers: int, *, adaptive: bool) -> list[ProcessHandle]:
    """``workers`` forked processes splitting ``ctx``'s segment (``adaptive``: their shares may change)."""
    from mcpload.distributed.worker_processes import start_process_workers

    def build(part: Segment) -> SegmentWorker:
        info = ctx.info
        worker = SegmentWorker(
            ctx.scenario, ctx.target, info.transport, info.protocol, ctx.seed, part, ctx.secrets,
            shares=ShareSchedule(part, fixed=not adaptive),
        )  # fmt: skip
        prepare_world(worker.load.world, info, ctx.scenario)
        return worker

    return await start_process_workers(ctx.segment.split(workers), build)


async def run_scenario(
    scenario: Scenario,
    *,
    workers: int = 1,
    ray: str | bool | None = None,
    recipe: Recipe | None = None,
    adaptive: AdaptPolicy | bool = False,
    **options: Any,
) -> RunReport:
    """``mcpload.run_scenario``: the engine's ``run_scenario`` with the load chosen by ``split_load``.

    Args:
        scenario: a ``Scenario`` (``load_scenario(path)`` or ``Scenario.from_dict``).
        workers: see ``split_load``.
        ray: see ``split_load``.
        recipe: see ``split_load``.
        adaptive: see ``split_load``.
        options: the engine's ``run_scenario`` keyword arguments (``target``, ``seed``, ``out``,
            ``intervals``, ``segment``, ``start_at``, …).
    """
    return await run_with_load(scenario, load=split_load(workers, ray, recipe, adaptive), **options)


__all__ = ["AdaptPolicy", "Recipe", "run_scenario", "split_load"]
