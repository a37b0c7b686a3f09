"""The run endpoints' REST shape: ending a run in its last batch, artifacts with create."""

from __future__ import annotations

import httpx

from slipway.objects import hash_bytes
from tests.conftest import LiveServer


def test_a_batch_with_a_status_ends_the_run_in_the_same_request(live_server: LiveServer) -> None:
    url = live_server.url
    run = httpx.post(f"{url}/projects/api/runs", json={"name": "r"}).json()
    batch = {
        "params": {"lr": "0.1"},
        "metrics": {"keys": ["acc"], "values": [0.5], "steps": [1], "timestamps": [7]},
        "status": "finished",
        "end_time": 1_800_000_000_000,
    }
    assert httpx.post(f"{url}/runs/{run['id']}/batch", json=batch).status_code == 204
    stored = httpx.get(f"{url}/runs/{run['id']}").json()
    assert stored["status"] == "finished"
    assert stored["end_time"].startswith("2027-01-15T08:00:00")
    assert (stored["params"], stored["metrics"]) == ({"lr": "0.1"}, {"acc": 0.5})


def test_a_batch_refuses_a_status_that_does_not_end_and_an_end_time_alone(
    live_server: LiveServer,
) -> None:
    url = live_server.url
    run = httpx.post(f"{url}/projects/api/runs", json={}).json()
    for bad, word in (({"status": "running"}, "status"), ({"end_time": 5}, "end_time")):
        answer = httpx.post(f"{url}/runs/{run['id']}/batch", json={"params": {"a": "1"}, **bad})
        assert (answer.status_code, answer.json()["error"]) == (400, "InvalidInput")
        assert word in answer.json()["detail"]
    stored = httpx.get(f"{url}/runs/{run['id']}").json()
    assert (stored["status"], stored["params"]) == ("running", {})


def test_create_with_an_object_never_uploaded_is_refused_and_writes_nothing(
    live_server: LiveServer,
) -> None:
    url = live_server.url
    digest = hash_bytes(b"never uploaded")
    answer = httpx.post(
        f"{url}/projects/ghost/runs",
        json={"artifacts": [{"path": "req.txt", "object_hash": digest, "size": 14}]},
    )
    assert (answer.status_code, answer.json()["error"]) == (404, "NotFound")
    assert f"object {digest} is not in the store" in answer.json()["detail"]
    assert httpx.get(f"{url}/projects/ghost").status_code == 404  # no project, no run
