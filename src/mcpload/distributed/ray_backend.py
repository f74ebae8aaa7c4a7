"""Segments as Ray actors (``mcpload run --ray``, extra ``mcpload[ray]``): one async actor per segment on
an existing Ray cluster (or a local one), polled by the coordinator for its drained recorder.

The loaded scenario cannot travel (compiled templates, Python agents), so each actor rebuilds it with a
picklable *recipe*: the command line's options, or any callable returning ``(scenario, target)``. Files
the scenario names (data files, Python agents) must exist on every node at the same path, or be shipped
with a ``runtime_env`` working directory (see docs/distributed.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

from mcpload import exit_codes
from mcpload.distributed.worker import Recipe, SegmentWorker
from mcpload.engine.preflight import Preflight, PreflightError
from mcpload.profiles import Segment

POLL_S = 0.2  # how often the coordinator asks each actor for its messages (well within a 1 s interval)


def require_ray() -> None:
    """Raise ValueError (one line, exit 2) when Ray is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ValueError("--ray needs Ray: pip install 'mcpload[ray]'") from None


class _SegmentActor:
    """The actor: a ``SegmentWorker`` in the actor's event loop and an outbox the coordinator polls."""

    def __init__(
        self, recipe: Recipe, transport: str, protocol: str, seed: int, segment: str, secrets: list[str]
    ) -> None:
        scenario, target = recipe()
        self.worker = SegmentWorker(
            scenario, target, transport, protocol, seed, Segment.parse(segment), frozenset(secrets)
        )
        self.outbox: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def ready(self) -> dict[str, Any]:
        import ray

        return {"pid": os.getpid(), "host": socket.gethostname(), "node": ray.get_runtime_context().get_node_id()}

    async def start(self, epoch: float) -> None:
        self.task = asyncio.ensure_future(self._run(epoch))

    async def _run(self, epoch: float) -> None:
        try:
            await self.worker.run(epoch, self.outbox.append)
        except Exception as exc:  # reported to the coordinator as a lost segment, with the reason
            self.outbox.append({"error": f"{type(exc).__name__}: {exc}"})

    async def poll(self) -> list[dict[str, Any]]:
        out = list(self.outbox)
        self.outbox.clear()  # the same list: the worker appends to it
        return out

    async def stop(self) -> None:
        self.worker.stop()

    async def cancel(self) -> None:
        self.worker.cancel_all()


class RayHandle:
    """The coordinator's side of one actor."""

    def __init__(self, actor: Any, segment: Segment, name: str, where: dict[str, Any]) -> None:
        self.actor = actor
        self.segment = segment
        self.name = name
        self.where = where
        self._reason = ""

    def start(self, epoch: float) -> None:
        self.actor.start.remote(epoch)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.actor.stop.remote()

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            self.actor.cancel.remote()

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            try:
                batch = await self.actor.poll.remote()
            except Exception as exc:  # the actor or its node died
                self._reason = f"Ray actor on {self.where.get('host', '?')} lost: {type(exc).__name__}"
                return
            for message in batch:
                yield message
                if message.get("done") or "error" in message:
                    return
            await asyncio.sleep(POLL_S)

    def lost_reason(self) -> str:
        return self._reason or "Ray actor ended without its final report"

    async def close(self) -> None:
        import ray

        with contextlib.suppress(Exception):
            ray.kill(self.actor)


async def start_ray_workers(
    address: str | None,
    recipe: Recipe | None,
    info: Preflight,
    seed: int,
    segment: Segment,
    workers: int,
    secrets: frozenset[str],
) -> list[RayHandle]:
    """Connect to Ray (``address``; None: ``RAY_ADDRESS`` or a new local cluster), start one actor per part
    of ``segment`` (``workers`` parts; 0: one per CPU of the cluster) and wait until each has built its
    scenario."""
    require_ray()
    import ray

    if recipe is None:
        raise ValueError("a Ray run needs a recipe: a picklable callable returning (scenario, target)")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    cpus = float(ray.cluster_resources().get("CPU", 1.0))  # type: ignore[no-untyped-call]  # Ray leaves it unannotated
    n = workers or max(1, int(cpus))
    # Any: Ray adds .options() and each method's .remote() at run time, beyond what its types describe
    actor_class: Any = ray.remote(_SegmentActor)
    run_id = uuid.uuid4().hex[:8]
    parts = segment.split(n)
    names = [f"mcpload-{run_id}-{i + 1}" for i in range(n)]
    actors = [
        actor_class.options(name=name, num_cpus=min(1.0, cpus / n), max_restarts=0).remote(
            recipe, info.transport, info.protocol, seed, str(part), sorted(secrets)
        )
        for name, part in zip(names, parts, strict=True)
    ]
    try:
        where = await asyncio.gather(*(a.ready.remote() for a in actors))
    except Exception as exc:
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        cause = getattr(exc, "cause", None) or exc
        raise PreflightError(
            f"a Ray actor could not start its segment: {type(cause).__name__}: {cause}", exit_codes.USAGE
        ) from None
    return [RayHandle(a, p, name, w) for a, p, name, w in zip(actors, parts, names, where, strict=True)]
