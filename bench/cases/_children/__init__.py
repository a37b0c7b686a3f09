"""Scripts the tracking cases run in fresh child processes, one per tool and venv.

Each script is self-contained apart from `_data.py` (standard library only), so it runs under
Slipway's `.venv` or the anchors' `.venv-anchors` alike, and can be copied elsewhere with it.
"""
