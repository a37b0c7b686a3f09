"""Records of pipeline runs and step runs, the step cache, schedules and cost reports.

The `@step`/`@pipeline` DSL and the executors live in `slipway.pipelines`; they record here
through the operations, so a pipeline run is recorded the same way in embedded and remote mode.
"""
