"""Model cards as a user reads them: every section with the facts it names, in Markdown and in
HTML, embedded (SQLite) and remote (a live `slipway server`); the author's text kept on the
version; user text never becomes markup.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import slipway as sw
from slipway.client import Client
from slipway.config import load_settings
from slipway.errors import InvalidInput
from slipway.models import Models, card_html, card_markdown
from slipway.services.registry.gates import ApprovalRule, GatePolicy
from tests.data.conftest import Cli
from tests.models.test_models_client import churn_data, train

FEATURES = ["tenure", "monthly", "support_calls"]
INTENDED = "Rank accounts for retention calls.\nNot for pricing decisions."
LIMITS = "Trained on 2023 accounts only; tenure under a month is rare in the data."


def sections(markdown: str) -> dict[str, str]:
    """Section title -> its text, from the card's `## Title` headings."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {title: text for title, text in zip(parts[1::2], parts[2::2], strict=True)}


def log_churn(client: Client, workspace: Path) -> str:
    """churn@v1: trained in a run with params on a versioned CSV, evaluated twice, its card
    text written, aliases moved; returns the run id."""
    model, frame = train(rows=400)
    emails = [f"customer{n}@example.com" for n in range(len(frame))]
    training = frame.assign(label=model.predict(frame), email=emails)
    training.to_csv(workspace / "churn.csv", index=False)
    test, label = churn_data(120)
    holdout = test.assign(label=label, region=np.where(test["tenure"] > 36, "old", "new"))
    holdout.to_csv(workspace / "holdout.csv", index=False)
    with sw.using(client):
        dataset = sw.data.add("churn.csv")
        with sw.start_run(project="default", name="rf-baseline", capture=False) as run:
            sw.log_params({"n_estimators": 20, "max_depth": 3})
            Models(client).log_model(
                model,
                "churn",
                input_example=frame.head(5),
                run_id=run.id,
                datasets=[dataset.ref],
                code_commit="0123abcd",
            )
        sw.models.evaluate(
            "churn@v1", sw.data.add("holdout.csv").ref, target="label", slices=["region"]
        )
        sw.models.evaluate("churn@v1", holdout.drop(columns=["region"]).head(60), target="label")
        sw.models.set_card("churn@v1", intended_use=INTENDED, limitations=LIMITS)
        sw.models.set_alias("churn", 1, "champion", reason="beats the rules baseline")
        client.models.approve("churn", 1, note="slices look even")
        policy = GatePolicy(approvals=ApprovalRule(required=1))
        assert Models(client).promote("churn", 1, alias="production", policy=policy).promoted
        sw.models.log_model(model, "churn", input_example=frame.head(2))
        sw.models.set_alias("churn", 2, "staging", reason="only ever on v2")
        sw.models.set_alias("churn", 2, "champion", reason="retrained on fresh data")
    return run.id


def test_a_card_shows_each_section_with_its_facts(client: Client, workspace: Path) -> None:
    run_id = log_churn(client, workspace)
    card = client.models.card("churn@v1")

    assert (card.version.ref, card.intended_use, card.limitations) == ("churn@v1", INTENDED, LIMITS)
    [data] = card.datasets
    [table] = data.tables
    assert (data.ref, table.path, table.row_count) == ("churn.csv@v1", "churn.csv", 400)
    assert [c.name for c in table.columns] == [*FEATURES, "label", "email"]
    assert [(f["column"], f["kind"]) for f in data.pii] == [("email", "email")]
    newest, oldest = card.evaluations
    assert (newest.data, oldest.data) == ("a DataFrame", "holdout.csv@v1")
    assert card.run is not None and card.run["id"] == run_id
    assert card.package is not None
    assert any(r.startswith("scikit-learn==") for r in card.package.requirements)
    assert [(c.alias, c.previous_version, c.version) for c in card.alias_history] == [
        ("champion", None, 1),
        ("production", None, 1),
        ("champion", 1, 2),
    ]
    [promotion] = card.promotions
    assert (promotion.alias, promotion.report.passed) == ("production", True)
    [approval] = card.approvals
    assert (approval.note, approval.approved_by) == ("slices look even", card.version.created_by)

    md = sections(card_markdown(card))
    assert list(md) == [
        "Overview",
        "Intended use",
        "Limitations",
        "Training data",
        "Metrics",
        "Signature",
        "Environment",
        "Lineage",
        "Alias history",
        "Gates passed and approvals",
    ]
    assert "Rank accounts for retention calls.\nNot for pricing decisions." in md["Intended use"]
    assert LIMITS in md["Limitations"]
    training = md["Training data"]
    assert "### churn.csv@v1" in training and "churn.csv: 400 rows, 5 columns (csv)" in training
    assert "| tenure | int64 | 0.0% |" in training and "| monthly | double | 0.0% |" in training
    assert "| churn.csv | email | email | 100.0% |" in training
    metrics = md["Metrics"]
    assert metrics.index("### a DataFrame: 60 rows") < metrics.index("### holdout.csv@v1: 120")
    assert f"| accuracy | {oldest.metrics['accuracy']:.4f} |" in metrics
    old = next(s for s in oldest.slices if s["value"] == "old")
    assert f"| region | old | {old['rows']} | {old['metrics']['accuracy']:.4f} |" in metrics
    signature = md["Signature"]
    assert "| tenure | integer | no |" in signature and "| monthly | float | no |" in signature
    assert "### Outputs" in signature and "| integer | no |" in signature.split("### Outputs")[1]
    environment = md["Environment"]
    assert "- **flavor:** sklearn" in environment and "scikit-learn==" in environment
    assert card.package.python_version in environment
    lineage = md["Lineage"]
    assert f"{run_id} (rf-baseline, finished)" in lineage
    assert "| max_depth | 3 |" in lineage and "| n_estimators | 20 |" in lineage
    assert "0123abcd" in lineage and "churn.csv@v1" in lineage
    history = md["Alias history"]
    assert "beats the rules baseline" in history and "retrained on fresh data" in history
    assert "staging" not in history  # it never pointed at v1
    gates = md["Gates passed and approvals"]
    assert "### production: " in gates and "| approvals.required | yes |" in gates
    assert "| slices look even |" in gates

    page = card_html(card)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    for fact in ("churn.csv@v1", "400 rows", "tenure", "scikit-learn==", run_id, "max_depth"):
        assert fact in page
    assert f"<td>{oldest.metrics['accuracy']:.4f}</td>" in page
    assert "beats the rules baseline" in page


def test_user_text_is_escaped_in_html(workspace: Path) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(
        model, "churn", input_example=frame.head(2), description='<img src=x onerror="go()">'
    )
    planted = "<script>alert('card')</script> & <b>bold</b>"
    Models(client).set_card("churn@v1", intended_use=planted, limitations="a | b")
    client.models.set_alias("churn", 1, "champion", reason="</td><script>x()</script> | y")
    card = client.models.card("churn@v1")
    client.close()
    page = card_html(card)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;card&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in page
    assert "&lt;img src=x onerror=&quot;go()&quot;&gt;" in page
    assert "&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;" in page
    # In Markdown a pipe inside a table cell is escaped, so the row keeps its cells.
    [row] = [line for line in card_markdown(card).splitlines() if "x()" in line]
    assert row.count(" | ") == 5


def test_a_version_with_only_a_package_still_renders(client: Client) -> None:
    model, _ = train()
    Models(client).log_model(model, "bare", requirements=["scikit-learn>=1.3"])
    card = client.models.card("bare")
    md = sections(card_markdown(card))
    for title in (
        "Intended use",
        "Limitations",
        "Training data",
        "Metrics",
        "Signature",
        "Alias history",
    ):
        assert "none recorded" in md[title], title
    gates = md["Gates passed and approvals"]
    assert "Promotions through gates: none recorded." in gates
    assert "Approvals: none recorded." in gates
    assert "- **run:** -" in md["Lineage"] and "- **code commit:** -" in md["Lineage"]
    assert "- scikit-learn>=1.3" in md["Environment"]
    assert "none recorded" in card_html(card)


def test_a_package_without_its_description_is_named_not_fatal(workspace: Path) -> None:
    from slipway.models import store_package
    from slipway.services.registry.schemas import ModelVersionCreate

    folder = workspace / "not-a-package"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\0" * 16)
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    digest = store_package(client.models.objects, folder)
    request = ModelVersionCreate(package_hash=digest, flavor="custom")
    client.backend.call("create_model_version", project="default", name="odd", body=request)
    md = sections(card_markdown(client.models.card("odd@v1")))
    client.close()
    assert "Not shown: the package has no slipway-model.yaml." in md["Environment"]
    assert "- **flavor:** custom" in md["Overview"]


def test_card_text_is_stored_as_tags_changed_and_removed(workspace: Path) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(model, "churn", input_example=frame.head(2), tags={"team": "crm"})
    version = Models(client).set_card("churn", intended_use="  Retention calls.  ")
    assert version.tags == {"card.intended_use": "Retention calls.", "team": "crm"}
    version = Models(client).set_card("churn@v1", limitations="Old data.")
    assert version.tags["card.intended_use"] == "Retention calls."  # left as it was
    version = Models(client).set_card("churn@v1", intended_use="")
    assert version.tags == {"card.limitations": "Old data.", "team": "crm"}
    with pytest.raises(InvalidInput, match="intended_use, limitations"):
        Models(client).set_card("churn@v1")
    with pytest.raises(InvalidInput, match="the limit is 6000"):
        Models(client).set_card("churn@v1", limitations="x" * 6001)
    assert client.models.card("churn@v1").limitations == "Old data."  # nothing lost
    client.close()


def test_the_cli_stores_text_prints_and_writes_cards(workspace: Path, cli: Cli) -> None:
    model, frame = train()
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    Models(client).log_model(model, "churn", input_example=frame.head(2))
    client.models.set_alias("churn", 1, "champion")
    client.close()
    text = ("--intended-use", "Retention <calls>", "--set", "limitations=Small | old sample")
    out, err = cli("model", "card", "churn@champion", *text)
    assert "churn@v1: stored intended_use, limitations" in err
    assert out.startswith("# Model card: churn@v1")
    assert "Retention <calls>" in out and "| churn@v1 |" not in out
    out, err = cli("model", "card", "churn@v1", "--output", "card.md")
    assert out == "" and "card written to card.md" in err
    assert "## Limitations\n\nSmall | old sample" in (workspace / "card.md").read_text()
    cli("model", "card", "churn@v1", "--html", "--output", "card.page")
    cli("model", "card", "churn@v1", "-o", "card.html")
    for name in ("card.page", "card.html"):
        page = (workspace / name).read_text()
        assert page.startswith("<!DOCTYPE html>") and "Retention &lt;calls&gt;" in page
    out, _ = cli("model", "card", "churn", "--html")
    assert "<h2>Intended use</h2>" in out
    _, err = cli("model", "card", "churn@v1", "--set", "owner=me", code=2)
    assert "intended_use=TEXT or limitations=TEXT" in err
    twice = ("--limitations", "a", "--set", "limitations=b")
    _, err = cli("model", "card", "churn@v1", *twice, code=2)
    assert "given twice" in err
    _, err = cli("model", "card", "churn@v7", code=3)
    assert "churn" in err and "v1" in err
