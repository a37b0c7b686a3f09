"""Pipelines: steps as plain Python functions, cached, run locally, on processes or on Ray.

```python
from slipway import step, pipeline

@step
def ingest(source: Dataset) -> pd.DataFrame: ...

@pipeline
def churn(source: str = "raw@latest", lr: float = 0.1):
    train(featurize(ingest(source)), lr=lr)

run = churn.run(executor="process", lr=0.2)
```
"""

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.pipelines._dsl import Dataset, Pipeline, Step, pipeline, step
    from slipway.pipelines._execute import DatasetInput, StepTimeout
    from slipway.pipelines._graph import Graph, Node, StepOutput
    from slipway.pipelines._loader import load_pipeline
    from slipway.pipelines._materializers import Materializer, register_materializer
    from slipway.pipelines._result import PipelineRun
    from slipway.pipelines._runner import resume_run, run_graph

# Loaded on first use: `slipway pipeline runs` needs none of the DSL or the executors.
_WHERE = {
    "Dataset": "slipway.pipelines._dsl",
    "Pipeline": "slipway.pipelines._dsl",
    "Step": "slipway.pipelines._dsl",
    "pipeline": "slipway.pipelines._dsl",
    "step": "slipway.pipelines._dsl",
    "DatasetInput": "slipway.pipelines._execute",
    "StepTimeout": "slipway.pipelines._execute",
    "Graph": "slipway.pipelines._graph",
    "Node": "slipway.pipelines._graph",
    "StepOutput": "slipway.pipelines._graph",
    "load_pipeline": "slipway.pipelines._loader",
    "Materializer": "slipway.pipelines._materializers",
    "register_materializer": "slipway.pipelines._materializers",
    "PipelineRun": "slipway.pipelines._result",
    "resume_run": "slipway.pipelines._runner",
    "run_graph": "slipway.pipelines._runner",
}

__all__ = [
    "Dataset",
    "DatasetInput",
    "Graph",
    "Materializer",
    "Node",
    "Pipeline",
    "PipelineRun",
    "Step",
    "StepOutput",
    "StepTimeout",
    "load_pipeline",
    "pipeline",
    "register_materializer",
    "resume_run",
    "run_graph",
    "step",
]

__getattr__ = lazy_exports(__name__, _WHERE)
