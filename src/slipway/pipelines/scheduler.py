"""The scheduler loop: find due occurrences, claim each (exactly one scheduler wins), run it.

Any number of schedulers may run against one metadata store; the claim is a row keyed by
(schedule, occurrence), so two of them never start the same occurrence. A scheduler that dies
between claiming and starting leaves a claim that another takes over once its lease ends.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from slipway.pipelines._link import driver_id
from slipway.pipelines._loader import load_pipeline
from slipway.pipelines._runner import run_graph

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.services.pipeline_runs.schemas import DueOccurrence

LEASE_S = 300.0


def tick(client: Client, *, claimer: str | None = None, echo: Callable[[str], None] = print) -> int:
    """Start every occurrence due now that this scheduler wins; how many it started."""
    from slipway.services.pipeline_runs.schemas import ClaimRequest

    claimer = claimer or driver_id()
    started = 0
    for due in client.call("list_due_occurrences").due:
        claim = client.call(
            "claim_occurrence",
            project=due.project,
            name=due.schedule,
            scheduled_at=due.scheduled_at,
            body=ClaimRequest(claimer=claimer, lease_s=LEASE_S),
        )
        if not claim.claimed:
            continue
        started += 1
        _start(client, due, echo)
    return started


def _start(client: Client, due: DueOccurrence, echo: Callable[[str], None]) -> None:
    try:
        graph = load_pipeline(due.pipeline).build(**due.params)
        result = run_graph(
            graph,
            executor=due.executor,
            project=due.project,
            client=client,
            schedule=(due.schedule, due.scheduled_at),
        )
        echo(f"schedule {due.schedule}: run {result.id} {result.status}")
    except Exception:
        echo(f"schedule {due.schedule}: could not start\n{traceback.format_exc().rstrip()}")


def serve(
    client: Client,
    *,
    poll_s: float = 30.0,
    stop: threading.Event | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Tick every `poll_s` seconds until `stop` is set."""
    stop = stop or threading.Event()
    claimer = driver_id()
    while not stop.is_set():
        tick(client, claimer=claimer, echo=echo)
        stop.wait(poll_s)
