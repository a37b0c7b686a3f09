"""The immutable graph a pipeline builds: nodes in call order, arguments bound.

Calling steps inside a `@pipeline` function records nodes instead of running them (as Ray's
`.bind()` does); every executor consumes the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.pipelines._dsl import Step


@dataclass(frozen=True)
class Ref:
    """An argument that is another node's output."""

    node: str


@dataclass(frozen=True)
class DatasetArg:
    """An argument naming a dataset version (NAME@vN, NAME@latest); resolved when run."""

    ref: str


@dataclass(frozen=True)
class Node:
    name: str
    step: Step
    literals: dict[str, Any]  # JSON-able arguments
    inputs: dict[str, Ref]  # arguments that are upstream outputs
    datasets: dict[str, DatasetArg]
    after: tuple[str, ...]  # upstream nodes, in order

    @property
    def upstream(self) -> tuple[str, ...]:
        return self.after


@dataclass(frozen=True)
class Graph:
    pipeline: str  # the pipeline's name
    ref: str  # module:attribute
    params: dict[str, Any]
    nodes: tuple[Node, ...]  # a topological order: a node only refers to earlier ones

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def descendants(self, name: str) -> set[str]:
        """Every node that depends on `name`, directly or not."""
        found: set[str] = set()
        for node in self.nodes:
            if name in node.after or found.intersection(node.after):
                found.add(node.name)
        return found


class StepOutput:
    """What calling a step inside a pipeline returns: a handle on its future output."""

    __slots__ = ("node",)

    def __init__(self, node: str) -> None:
        self.node = node

    def __repr__(self) -> str:
        return f"<output of step {self.node}>"

    def _refuse(self, *_: object) -> Any:
        raise TypeError(
            f"{self!r} is not a value yet: a pipeline function only wires steps together; "
            "pass it to another step, which receives the real value"
        )

    __bool__ = __iter__ = __len__ = __getitem__ = __add__ = _refuse

    def __getattr__(self, name: str) -> Any:
        return self._refuse()
