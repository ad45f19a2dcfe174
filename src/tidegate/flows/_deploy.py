"""Prefect deployments from ``pipelines/*.yaml``: one deployment of ``ingest`` per pipeline.

``serve`` runs them all from one long-lived process (Prefect's ``Runner``);
``deploy`` registers them with the Prefect API for workers of a work pool.
Imports Prefect: only the ``serve`` and ``deploy`` commands load this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron, Interval, Schedule

from tidegate.errors import PipelineError
from tidegate.pipelines import ConcurrencyConfig, PipelineSpec, ScheduleSpec, load_pipelines
from tidegate.store import open_store

if TYPE_CHECKING:
    from tidegate.store import Store

RETRY_DELAY_SECONDS = 30


@dataclass(frozen=True)
class DeploymentPlan:
    """What one pipeline's deployment is made of, before Prefect sees it."""

    pipeline: PipelineSpec
    flow: Any  # the ``ingest`` flow, with the pipeline's retries
    schedule: Schedule | None
    concurrency: ConcurrencyLimitConfig
    parameters: dict[str, Any]

    @property
    def name(self) -> str:
        return self.pipeline.name

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by ``Flow.to_deployment`` and ``Runner.add_flow``."""
        return {
            "name": self.name,
            "schedule": self.schedule,
            "concurrency_limit": self.concurrency,
            "parameters": self.parameters,
            "description": self.pipeline.description or f"tidegate ingest of {self.name}",
            "tags": ["tidegate", f"source:{self.name}"],
        }


def prefect_schedule(spec: ScheduleSpec | None) -> Schedule | None:
    if spec is None:
        return None
    if spec.cron is not None:
        return Cron(spec.cron, timezone=spec.timezone)
    return Interval(spec.interval_seconds or 0, anchor_date=spec.anchor(), timezone=spec.timezone)


def concurrency_config(config: ConcurrencyConfig) -> ConcurrencyLimitConfig:
    strategy = (
        ConcurrencyLimitStrategy.CANCEL_NEW
        if config.on_busy == "skip"
        else ConcurrencyLimitStrategy.ENQUEUE
    )
    return ConcurrencyLimitConfig(limit=config.limit, collision_strategy=strategy)


def plan_deployments(
    project: Path, store: Store, names: list[str] | None = None
) -> list[DeploymentPlan]:
    """One plan per pipeline (or per name in ``names``), in file order."""
    from tidegate.flows._ingest import ingest

    project = project.resolve()
    pipelines = load_pipelines(project)
    if names:
        known = {p.name for p in pipelines}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise PipelineError(
                f"no pipeline named {', '.join(map(repr, unknown))} in {project / 'pipelines'}; "
                f"known: {', '.join(sorted(known)) or '(none)'} (see `tidegate pipelines list`)"
            )
        pipelines = [p for p in pipelines if p.name in names]
    plans = []
    for p in pipelines:
        flow = ingest
        if p.retries:
            flow = ingest.with_options(retries=p.retries, retry_delay_seconds=RETRY_DELAY_SECONDS)
        plans.append(
            DeploymentPlan(
                pipeline=p,
                flow=flow,
                schedule=prefect_schedule(p.schedule_spec),
                concurrency=concurrency_config(p.concurrency),
                parameters={
                    "pipeline": p.name,
                    "project_dir": str(project),
                    "store": store_parameter(store),
                },
            )
        )
    return plans


def build_deployments(plans: list[DeploymentPlan], **extra: Any) -> list[Any]:
    """``ingest.to_deployment(...)`` for each plan (``RunnerDeployment`` objects)."""
    return [plan.flow.to_deployment(**plan.kwargs(), **extra) for plan in plans]


def serve(plans: list[DeploymentPlan], limit: int | None = None) -> None:
    """Serve every plan from this process until interrupted (Ctrl-C or SIGTERM).

    Uses ``Runner.add_flow`` rather than ``prefect.serve(*deployments)`` so that the
    runner keeps the flow object: runs start from it directly, with the pipeline's
    ``retries``, instead of re-importing the entrypoint (which would drop them).
    """
    from prefect.runner import Runner

    if not plans:
        raise PipelineError("no pipelines to serve; add one to pipelines/")
    runner = Runner(name="tidegate", pause_on_shutdown=True, limit=limit)

    async def start() -> None:
        for plan in plans:
            await runner.aadd_flow(plan.flow, **plan.kwargs())
        await runner.start()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(start())


def deploy(plans: list[DeploymentPlan], work_pool: str, image: str | None = None) -> list[Any]:
    """Register the deployments with the Prefect API for workers of ``work_pool``.

    Without an image the entrypoint is the module path ``tidegate.flows._ingest.ingest``,
    so the workers need tidegate installed and the project folder and store reachable at
    the same paths. Flow-run ``retries`` are not carried this way (the worker imports the
    plain flow); schedules, parameters and concurrency limits are.
    """
    from prefect.deployments.runner import EntrypointType
    from prefect.deployments.runner import deploy as prefect_deploy

    if not plans:
        raise PipelineError("no pipelines to deploy; add one to pipelines/")
    extra: dict[str, Any] = {"work_pool_name": work_pool}
    if image is None:
        extra["entrypoint_type"] = EntrypointType.MODULE_PATH
    deployments = build_deployments(plans, **extra)
    try:
        ids = prefect_deploy(
            *deployments,
            work_pool_name=work_pool,
            image=image,
            build=image is not None,
            push=False,
            print_next_steps_message=False,
            ignore_warnings=True,
        )
    except ValueError as exc:
        raise PipelineError(
            f"Prefect refused the deployments for work pool {work_pool!r}: {exc} "
            f"(create it with `prefect work-pool create {work_pool} --type process`, "
            "or use `tidegate serve`)"
        ) from exc
    return list(ids)  # type: ignore[arg-type]  # sync call: a list, not a coroutine


def store_parameter(store: Store) -> str:
    """The store as a deployment parameter: an absolute file path, or the URL as written
    (its ``${ENV}`` references are resolved by the worker that runs the flow)."""
    return open_store(store).argument()
