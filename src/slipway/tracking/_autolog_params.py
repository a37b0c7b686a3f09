"""An estimator's params and tags as autolog records them."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slipway.errors import Conflict
from slipway.services.runs.schemas import MAX_VALUE, check_key
from slipway.tracking._active_run import ActiveRun

log = logging.getLogger("slipway.tracking")

_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /:]")


def clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as the SDK takes them; a key that stays invalid or collides is left out."""
    cleaned: dict[str, str] = {}
    # Keys already valid go first, so they win over a sanitized key that lands on them.
    for raw in sorted(params, key=lambda k: _BAD_KEY_CHARS.search(str(k)) is not None):
        key = _BAD_KEY_CHARS.sub("_", str(raw))
        if key in cleaned or not _valid_key(key):
            log.debug("autolog: left out param %r (invalid or colliding key)", raw)
            continue
        try:
            cleaned[key] = str(params[raw])[:MAX_VALUE]
        except Exception:  # a user object whose __str__ fails must not fail the fit
            log.debug("autolog: left out param %r (value has no text form)", raw, exc_info=True)
    return cleaned


def _valid_key(key: str) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False
    return True


def log_params(run: ActiveRun, params: Mapping[str, str]) -> None:
    """Log `params`; where the run holds other values already, keep those and say so."""
    try:
        run.log_params(params)
    except Conflict:
        # A second fit in the same user run: params are immutable, so log the new keys and
        # keep the values already there.
        kept = []
        for key, value in params.items():
            try:
                run.log_params({key: value})
            except Conflict:
                kept.append(key)
        raise Conflict(
            f"the run already has other values for {', '.join(kept)}; kept those"
        ) from None


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }
