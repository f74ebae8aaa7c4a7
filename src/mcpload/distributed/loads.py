"""Which load a run uses: the agents in this process, forked worker processes or Ray actors.

The engine runs whatever ``Load`` it is given (``run_scenario(load=...)``) and knows nothing of this
package; the command line and the public ``mcpload.run_scenario`` make the choice here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpload.distributed.remote import RemoteLoad
from mcpload.distributed.worker import Recipe, SegmentWorker
from mcpload.engine.execute import run_scenario as run_with_load
from mcpload.engine.load import Load, LoadContext, LoadFactory, prepare_world
from mcpload.engine.runner import RunReport
from mcpload.profiles import Segment

if TYPE_CHECKING:
    from mcpload.scenario import Scenario


def split_load(workers: int = 1, ray: str | bool | None = None, recipe: Recipe | None = None) -> LoadFactory | None:
    """The load factory for ``run_scenario(load=...)``, or None for the engine's default (this process).

    Args:
        workers: split this process's segment over so many forked worker processes (the coordinator
            merges their data every second; 1 runs the agents in this process). With Ray: actors per
            segment, 0 meaning one per CPU of the cluster.
        ray: run the segments as Ray actors: True or ``"auto"`` joins or starts a local cluster, else a
            cluster address. Needs ``recipe`` and the ``mcpload[ray]`` extra.
        recipe: for Ray, a picklable callable returning ``(scenario, target)`` in the actor.
    """
    if ray:
        address = None if ray in (True, "auto") else str(ray)

        async def ray_load(ctx: LoadContext) -> Load:
            from mcpload.distributed.ray_backend import start_ray_workers

            handles = await start_ray_workers(address, recipe, ctx.info, ctx.seed, ctx.segment, workers, ctx.secrets)
            return RemoteLoad(handles, "ray")

        return ray_load
    if workers > 1:

        async def process_load(ctx: LoadContext) -> Load:
            from mcpload.distributed.worker_processes import start_process_workers

            def build(part: Segment) -> SegmentWorker:
                info = ctx.info
                worker = SegmentWorker(
                    ctx.scenario, ctx.target, info.transport, info.protocol, ctx.seed, part, ctx.secrets
                )
                prepare_world(worker.load.world, info, ctx.scenario)
                return worker

            return RemoteLoad(await start_process_workers(ctx.segment.split(workers), build), "processes")

        return process_load
    return None


async def run_scenario(
    scenario: Scenario,
    *,
    workers: int = 1,
    ray: str | bool | None = None,
    recipe: Recipe | None = None,
    **options: Any,
) -> RunReport:
    """``mcpload.run_scenario``: the engine's ``run_scenario`` with the load chosen by ``split_load``.

    Args:
        scenario: a ``Scenario`` (``load_scenario(path)`` or ``Scenario.from_dict``).
        workers: see ``split_load``.
        ray: see ``split_load``.
        recipe: see ``split_load``.
        options: the engine's ``run_scenario`` keyword arguments (``target``, ``seed``, ``out``,
            ``intervals``, ``segment``, ``start_at``, …).
    """
    return await run_with_load(scenario, load=split_load(workers, ray, recipe), **options)


__all__ = ["Recipe", "run_scenario", "split_load"]
