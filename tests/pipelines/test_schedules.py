"""Cron parsing, due occurrences under each missed policy, and exactly-once claims."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipway.client import Client, EmbeddedBackend
from slipway.context import Context
from slipway.errors import AlreadyExists, InvalidInput, NotFound
from slipway.services.pipeline_runs._cron import Cron
from slipway.services.pipeline_runs.schemas import ClaimRequest, ScheduleCreate, ScheduleUpdate
from tests.conftest import SLIPWAY, clean_env, settings_for
from tests.pipelines import flows

REPO = Path(__file__).resolve().parents[2]
MINUTE = 60_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def iso(value: int) -> str:
    return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 3 * * *", "2026-11-27 02:59", "2026-11-27 03:00"),
        ("0 3 * * *", "2026-11-27 03:00", "2026-11-28 03:00"),
        ("*/15 * * * *", "2026-11-27 10:16", "2026-11-27 10:30"),
        ("0 0 1 * *", "2026-12-15 00:00", "2027-01-01 00:00"),
        ("30 9 * * mon-fri", "2026-11-27 10:00", "2026-11-30 09:30"),  # Friday -> Monday
        ("0 0 13 * 5", "2026-11-01 00:00", "2026-11-06 00:00"),  # 13th OR a Friday
        ("@hourly", "2026-11-27 10:59", "2026-11-27 11:00"),
        ("0 12 29 feb *", "2026-03-01 00:00", "2028-02-29 12:00"),
        ("5,10 1-2 * jan,jul 0", "2026-11-27 00:00", "2027-01-03 01:05"),
    ],
)
def test_cron_finds_the_next_occurrence(expression: str, after: str, expected: str):
    assert iso(Cron.parse(expression).next_after(ms(after))) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", "five fields"),
        ("61 * * * *", "within 0-59"),
        ("* 24 * * *", "within 0-23"),
        ("x * * * *", "not a valid minute"),
        ("*/0 * * * *", "within"),
        ("0 0 31 2 *", "never falls due"),
    ],
)
def test_a_bad_cron_is_refused_with_what_is_wrong(expression: str, message: str):
    with pytest.raises(InvalidInput, match=message):
        Cron.parse(expression)


def _client_at(workspace: Path, url: str, now: int) -> Client:
    ctx = Context.open(settings_for(workspace, url))
    return Client(EmbeddedBackend(replace(ctx, clock=lambda: now)))


def _schedule(
    client: Client, missed: str = "latest", name: str = "every-minute", cron: str = "* * * * *"
) -> None:
    client.call(
        "create_schedule",
        project="default",
        body=ScheduleCreate(
            name=name,
            pipeline="tests.pipelines.flows:resumable",
            cron=cron,
            params={"start": 2},
            missed=missed,  # type: ignore[arg-type]
        ),
    )


@pytest.mark.parametrize(("missed", "due"), [("latest", 1), ("all", 3), ("skip", 0)])
def test_occurrences_missed_while_no_scheduler_ran_follow_the_policy(
    workspace: Path, sqlite_url: str, missed: str, due: int
):
    created = ms("2026-11-27 10:00")
    with _client_at(workspace, sqlite_url, created) as before:
        _schedule(before, missed, cron="*/10 * * * *")
    later = ms("2026-11-27 10:33")  # 10:10, 10:20 and 10:30 fell due; the last 3 min ago
    with _client_at(workspace, sqlite_url, later) as client:
        found = client.call("list_due_occurrences")
        assert len(found.due) == due
        assert found.skipped == 3 - due
        if due:
            assert found.due[-1].scheduled_at == ms("2026-11-27 10:30")
            assert found.due[0].params == {"start": 2}
    with _client_at(workspace, sqlite_url, ms("2026-11-27 10:40") + 5_000) as client:
        # Whatever the policy, an occurrence that has just fallen due runs.
        assert ms("2026-11-27 10:40") in [
            d.scheduled_at for d in client.call("list_due_occurrences").due
        ]


def test_a_paused_schedule_has_nothing_due_and_resumes_from_now(workspace: Path, sqlite_url: str):
    created = ms("2026-11-27 10:00")
    with _client_at(workspace, sqlite_url, created) as client:
        _schedule(client, "all")
        client.call(
            "update_schedule",
            project="default",
            name="every-minute",
            body=ScheduleUpdate(paused=True),
        )
    with _client_at(workspace, sqlite_url, created + 5 * MINUTE) as client:
        assert client.call("list_due_occurrences").due == []
        listed = client.call("list_schedules", project="default").schedules
        assert listed[0].paused and listed[0].next_occurrence is None
        client.call(
            "update_schedule",
            project="default",
            name="every-minute",
            body=ScheduleUpdate(paused=False),
        )
        assert client.call("list_due_occurrences").due == []  # what fell due while paused
    with _client_at(workspace, sqlite_url, created + 6 * MINUTE + 1) as client:
        assert len(client.call("list_due_occurrences").due) == 1


def test_schedules_refuse_bad_input(workspace: Path, sqlite_url: str):
    with _client_at(workspace, sqlite_url, ms("2026-11-27 10:00")) as client:
        _schedule(client)
        with pytest.raises(AlreadyExists):
            _schedule(client)
        with pytest.raises(InvalidInput, match="five fields"):
            client.call(
                "create_schedule",
                project="default",
                body=ScheduleCreate(name="bad", pipeline="m:p", cron="daily"),
            )
        with pytest.raises(NotFound):
            client.call("delete_schedule", project="default", name="nope")
        client.call("delete_schedule", project="default", name="every-minute")
        assert client.call("list_schedules", project="default").schedules == []


def test_many_claims_of_one_occurrence_at_once_give_it_to_exactly_one(
    workspace: Path, metadata_url: str
):
    created = ms("2026-11-27 10:00")
    with _client_at(workspace, metadata_url, created) as client:
        _schedule(client)
    at = created + MINUTE
    clients = [_client_at(workspace, metadata_url, at + 1) for _ in range(8)]
    try:

        def claim(index: int) -> bool:
            return bool(
                clients[index]
                .call(
                    "claim_occurrence",
                    project="default",
                    name="every-minute",
                    scheduled_at=at,
                    body=ClaimRequest(claimer=f"scheduler-{index}"),
                )
                .claimed
            )

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(claim, range(8)))
    finally:
        for made in clients:
            made.close()
    assert results.count(True) == 1


def test_a_claim_whose_scheduler_never_started_it_is_taken_over_after_its_lease(
    workspace: Path, sqlite_url: str
):
    created = ms("2026-11-27 10:00")
    at = created + MINUTE
    with _client_at(workspace, sqlite_url, created) as client:
        _schedule(client)
    with _client_at(workspace, sqlite_url, at + 1) as client:
        body = ClaimRequest(claimer="dies-soon", lease_s=30)
        assert client.call(
            "claim_occurrence", project="default", name="every-minute", scheduled_at=at, body=body
        ).claimed
        assert client.call("list_due_occurrences").due == []  # held by its lease
    with _client_at(workspace, sqlite_url, at + 31_000) as client:
        assert [d.scheduled_at for d in client.call("list_due_occurrences").due] == [at]
        body = ClaimRequest(claimer="takes-over")
        assert client.call(
            "claim_occurrence", project="default", name="every-minute", scheduled_at=at, body=body
        ).claimed


def test_two_schedulers_started_together_run_a_due_occurrence_exactly_once(
    workspace: Path, metadata_url: str, tmp_path: Path
):
    import time

    with _client_at(workspace, metadata_url, int(time.time() * 1000) - 3 * MINUTE) as client:
        _schedule(client)  # created three minutes ago: occurrences are due now
    log = tmp_path / "steps.log"
    env = clean_env(
        SLIPWAY_METADATA_URL=metadata_url, SLIPWAY_TEST_STEP_LOG=str(log), PYTHONPATH=str(REPO)
    )
    schedulers = [
        subprocess.Popen(
            [SLIPWAY, "scheduler", "--once"],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in schedulers]
    assert all(p.returncode == 0 for p in schedulers), outputs
    assert sorted(o.strip().splitlines()[-1] for o in outputs) == [
        "started 0 occurrence(s)",
        "started 1 occurrence(s)",
    ]
    assert flows.executed(log) == ["first", "second", "gate", "last"]
    with Client(EmbeddedBackend(Context.open(settings_for(workspace, metadata_url)))) as client:
        runs = client.call("list_pipeline_runs", project="default").runs
        assert len(runs) == 1 and runs[0].status == "finished"
        schedule = client.call("list_schedules", project="default").schedules[0]
        assert runs[0].schedule_id == schedule.id
        assert runs[0].scheduled_at == schedule.last_occurrence
        again = subprocess.run(
            [SLIPWAY, "scheduler", "--once"], cwd=workspace, env=env, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stdout + again.stderr
        # The occurrence both schedulers saw is not started again (the next one may have
        # fallen due meanwhile, when the clock passed a minute: that one may start).
        later = client.call("list_pipeline_runs", project="default").runs
        assert [r.scheduled_at for r in later].count(runs[0].scheduled_at) == 1


def test_the_scheduler_loop_starts_what_falls_due_until_stopped(
    workspace: Path, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import threading
    import time

    from slipway.pipelines.scheduler import serve

    monkeypatch.setenv("SLIPWAY_TEST_STEP_LOG", str(tmp_path / "steps.log"))
    now = int(time.time() * 1000)
    with _client_at(workspace, sqlite_url, now - 2 * MINUTE) as client:
        _schedule(client)
    stop = threading.Event()
    lines: list[str] = []
    with Client(EmbeddedBackend(Context.open(settings_for(workspace, sqlite_url)))) as client:
        loop = threading.Thread(
            target=serve,
            args=(client,),
            kwargs={"poll_s": 0.05, "stop": stop, "echo": lines.append},
        )
        loop.start()
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        loop.join(timeout=60)
        runs = client.call("list_pipeline_runs", project="default").runs
    assert not loop.is_alive()
    assert len(runs) == 1 and runs[0].status == "finished"
    assert lines[0] == f"schedule every-minute: run {runs[0].id} finished"
    assert flows.executed(tmp_path / "steps.log") == ["first", "second", "gate", "last"]
