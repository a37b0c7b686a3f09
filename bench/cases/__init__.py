"""The benchmark cases, in the order they run. To add one: write a module exposing
`CASE = Case(...)` (see `_common.Case`) and list it here."""

from cases import add_2gib, cli_help
from cases._common import Case

CASES: dict[str, Case] = {case.name: case for case in (cli_help.CASE, add_2gib.CASE)}

__all__ = ["CASES", "Case"]
