"""Runs through the SDK, identical embedded (SQLite, PostgreSQL) and remote."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import slipway as sw
from slipway.client import Client
from slipway.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def client(any_client: Client) -> Iterator[Client]:
    with sw.using(any_client):
        yield any_client
    any_client.batcher.close()


def test_a_run_round_trips(client: Client, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    (plots / "deep").mkdir(parents=True)
    (plots / "roc.png").write_bytes(b"\x89PNG fake image" * 100)
    (plots / "deep" / "notes.txt").write_text("ünïcode ✓")
    with sw.start_run(project="churn", name="baseline", tags={"team": "risk"}) as run:
        run.log_params({"lr": 0.1, "depth": 6})
        run.log_metric("loss", 0.41, step=3)
        run.log_metrics({"acc": 0.91, "f1": 0.88}, step=3)
        run.set_tags({"stage": "dev"})
        run.log_artifact(plots / "roc.png")
        run.log_artifact(plots, "plots")
        run.log_dict({"threshold": 0.5}, "config.json")

    got = sw.get_run(run.id)
    assert (got.project, got.name, got.status) == ("churn", "baseline", "finished")
    assert got.params == {"lr": "0.1", "depth": "6"}
    assert got.metrics == {"loss": 0.41, "acc": 0.91, "f1": 0.88}
    assert {k: v for k, v in got.tags.items() if not k.startswith("slipway.")} == {
        "team": "risk",
        "stage": "dev",
    }
    assert got.tags["slipway.python.version"].startswith("3.")
    assert got.end_time is not None and got.end_time >= got.start_time

    paths = {a.path: a for a in sw.list_artifacts(run.id)}
    assert set(paths) == {"roc.png", "plots", "config.json", "_slipway/requirements.txt"}
    assert paths["plots"].is_dir and not paths["roc.png"].is_dir
    out = tmp_path / "out"
    sw.download_artifacts(run.id, "plots", out / "plots")
    assert (out / "plots" / "deep" / "notes.txt").read_text() == "ünïcode ✓"
    sw.download_artifacts(run.id, "config.json", out / "config.json")
    assert '"threshold": 0.5' in (out / "config.json").read_text()
    sw.download_artifacts(run.id, "_slipway/requirements.txt", out / "req.txt")
    assert "slipway==0.1.0" in (out / "req.txt").read_text()


def test_metric_history_keeps_every_point(client: Client) -> None:
    with sw.start_run(project="hist", capture=False) as run:
        for step in range(50):
            run.log_metric("loss", 1 / (step + 1), step=step, timestamp=1_000 + step)
        run.log_metric("loss", 0.5, step=10, timestamp=5_000)  # a second point at step 10
        run.log_metric("loss", float("nan"), step=50, timestamp=6_000)
    history = sw.get_metric_history(run.id, "loss")
    assert len(history) == 52
    assert history[:2] == [(0, 1_000, 1.0), (1, 1_001, 0.5)]
    assert (10, 1_010, 1 / 11) in history and (10, 5_000, 0.5) in history
    assert history[-1][:2] == (50, 6_000) and math.isnan(history[-1][2])
    assert math.isnan(sw.get_run(run.id).metrics["loss"])  # latest = highest step


def test_status_follows_the_block(client: Client) -> None:
    with pytest.raises(ZeroDivisionError), sw.start_run(project="st", capture=False) as failed:
        _ = 1 / 0
    with pytest.raises(KeyboardInterrupt), sw.start_run(project="st", capture=False) as killed:
        raise KeyboardInterrupt
    running = sw.start_run(project="st", capture=False)
    assert sw.get_run(running.id).status == "running"
    sw.end_run()
    assert sw.get_run(failed.id).status == "failed"
    assert sw.get_run(killed.id).status == "killed"
    assert sw.get_run(running.id).status == "finished"
    assert sw.active_run() is None


def test_nested_runs_and_module_level_logging(client: Client) -> None:
    with sw.start_run(project="nest", name="parent", capture=False) as parent:
        with pytest.raises(InvalidInput, match="already active"):
            sw.start_run(project="nest")
        with sw.start_run(project="nest", name="child", nested=True, capture=False) as child:
            sw.log_metric("child_metric", 1.0)
            sw.log_param("fold", 3)
            sw.set_tag("kind", "cv")
        sw.log_metric("parent_metric", 2.0)
    assert sw.get_run(child.id).parent_run_id == parent.id
    assert sw.get_run(child.id).metrics == {"child_metric": 1.0}
    assert sw.get_run(child.id).params == {"fold": "3"}
    assert sw.get_run(parent.id).metrics == {"parent_metric": 2.0}
    with pytest.raises(InvalidInput, match="no active run"):
        sw.log_metric("orphan", 1.0)


def test_params_are_immutable(client: Client) -> None:
    with sw.start_run(project="imm", capture=False) as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)  # the same value again is fine
        with pytest.raises(Conflict, match="params are immutable"):
            run.log_param("lr", 0.2)
    assert sw.get_run(run.id).params == {"lr": "0.1"}


def test_bad_input_is_refused_at_the_call(client: Client) -> None:
    with sw.start_run(project="bad", capture=False) as run:
        with pytest.raises(InvalidInput, match="must be a number"):
            run.log_metric("acc", "high")
        with pytest.raises(InvalidInput, match="invalid key"):
            run.log_metric("../../etc", 1.0)
        with pytest.raises(InvalidInput, match="limit is 6000"):
            run.log_param("huge", "x" * 7000)
        with pytest.raises(InvalidInput, match="must be relative"):
            run.log_text("x", "../escape.txt")
        run.log_metric("ok", 1.0)
    assert sw.get_run(run.id).metrics == {"ok": 1.0}


def test_a_failed_write_is_reported_not_dropped(client: Client) -> None:
    run = sw.start_run(project="gone", capture=False)
    sw.delete_run(run.id)
    run.log_metric("late", 1.0)
    with pytest.raises(Conflict, match=r"logging failed: run \w+ is deleted"):
        run.flush()
    with pytest.raises(Conflict):
        run.end()


def test_search_pages_and_orders(client: Client) -> None:
    for i in range(7):
        with sw.start_run(project="grid", name=f"r{i}", capture=False) as run:
            run.log_params({"lr": "0.1" if i % 2 else "0.01"})
            run.log_metric("acc", 0.80 + i / 100)
    with sw.start_run(project="other", name="elsewhere", capture=False) as run:
        run.log_metric("acc", 0.99)
    found = sw.search_runs(
        project="grid",
        filter="metrics.acc > 0.81 and params.lr = '0.1'",
        order_by=["metrics.acc DESC"],
    )
    assert [r.name for r in found.runs] == ["r5", "r3"]
    first = sw.search_runs(project="grid", order_by=["metrics.acc"], max_results=3)
    second = sw.search_runs(
        project="grid", order_by=["metrics.acc"], max_results=3, page_token=first.next_page_token
    )
    third = sw.search_runs(
        project="grid", order_by=["metrics.acc"], max_results=3, page_token=second.next_page_token
    )
    names = [r.name for page in (first, second, third) for r in page.runs]
    assert names == [f"r{i}" for i in range(7)] and third.next_page_token is None
    assert {r.name for r in sw.search_runs(filter="metrics.acc >= 0.86").runs} == {
        "r6",
        "elsewhere",
    }
    with pytest.raises(InvalidInput, match="position"):
        sw.search_runs(project="grid", filter="metrics.acc >")
    with pytest.raises(NotFound, match="'nope' does not exist"):
        sw.search_runs(project="nope")


def test_injection_text_finds_nothing_and_changes_nothing(client: Client) -> None:
    with sw.start_run(project="safe", name="victim", capture=False) as run:
        run.log_param("lr", "0.1")
    for evil in (
        "params.lr = '0.1'' OR 1=1 --'",
        "attributes.name = 'x''); DELETE FROM runs; --'",
        "tags.`x; DROP TABLE runs; --` = 'a'",
    ):
        assert sw.search_runs(project="safe", filter=evil).runs == []
    with pytest.raises(InvalidInput, match="position"):
        sw.search_runs(project="safe", filter="attributes.name = 'x'); DELETE FROM runs; --")
    assert [r.name for r in sw.search_runs(project="safe").runs] == ["victim"]
    assert sw.get_run(run.id).params == {"lr": "0.1"}


def test_deleted_runs_are_hidden_but_readable(client: Client) -> None:
    with sw.start_run(project="del", name="doomed", capture=False) as run:
        pass
    sw.delete_run(run.id)
    assert sw.search_runs(project="del").runs == []
    assert [r.name for r in sw.search_runs(project="del", include_deleted=True).runs] == ["doomed"]
    assert sw.get_run(run.id).deleted


def test_system_metrics_are_sampled_when_asked(client: Client) -> None:
    import time

    with sw.start_run(
        project="sys", capture=False, system_metrics=True, system_metrics_interval_s=0.05
    ) as run:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            run.flush()
            if "system.rss_mib" in sw.get_run(run.id).metrics:
                break
            time.sleep(0.05)
    metrics = sw.get_run(run.id).metrics
    assert {"system.cpu_percent", "system.rss_mib", "system.memory_percent"} <= set(metrics)
    assert metrics["system.rss_mib"] > 1
    with pytest.raises(InvalidInput, match="has ended"):
        run.sample_system_metrics()
    with sw.start_run(project="sys", capture=False) as quiet:
        pass
    assert not any(k.startswith("system.") for k in sw.get_run(quiet.id).metrics)
