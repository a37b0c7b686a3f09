"""The run search language: parsed, checked, and compiled to SQL over the metadata schema."""

from slipway.store.run_search._compile import (
    MAX_ORDER_BY,
    PAGE_LIMIT,
    PAGE_OFFSET,
    RunQuery,
    compile_search,
    search_runs_query,
    validate,
)
from slipway.store.run_search._parser import (
    And,
    Comparison,
    Identifier,
    Node,
    Number,
    Or,
    OrderItem,
    String,
    parse_filter,
    parse_order_by,
)

__all__ = [
    "MAX_ORDER_BY",
    "PAGE_LIMIT",
    "PAGE_OFFSET",
    "And",
    "Comparison",
    "Identifier",
    "Node",
    "Number",
    "Or",
    "OrderItem",
    "RunQuery",
    "String",
    "compile_search",
    "parse_filter",
    "parse_order_by",
    "search_runs_query",
    "validate",
]
