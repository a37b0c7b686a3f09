"""Every service module, imported so that each registers its operations.

The client backends and the API import this module; nothing else needs the whole list.
A test checks that every module declaring an `@operation` is listed here.
"""

from __future__ import annotations

from slipway.services.blobs import service as blobs
from slipway.services.datasets import service as datasets
from slipway.services.pipeline_runs import cost, schedules
from slipway.services.pipeline_runs import service as pipeline_runs
from slipway.services.projects import service as projects
from slipway.services.registry import card, evaluations, promotion
from slipway.services.registry import service as registry
from slipway.services.runs import service as runs

SERVICE_MODULES = (
    projects,
    runs,
    blobs,
    datasets,
    registry,
    evaluations,
    promotion,
    card,
    pipeline_runs,
    schedules,
    cost,
)
