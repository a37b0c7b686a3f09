"""`slipway model card REF`: show a version's model card, or write what it is for.

The card's own text is kept on the version as the tags `card.intended_use` and
`card.limitations` (`--intended-use`, `--limitations`, or `--set intended_use=...`); the rest
of the card is gathered from the registry, its lineage, evaluations and package.
"""

from __future__ import annotations

from pathlib import Path

import click

from slipway.cli._model_options import PROJECT, models

_KEYS = ("intended_use", "limitations")


@click.command()
@click.argument("ref")
@click.option("--html", "as_html", is_flag=True, help="A self-contained HTML page, not Markdown.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the card to FILE (HTML when FILE ends in .html) instead of printing it.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=TEXT",
    help="Store intended_use=... or limitations=... first (an empty TEXT removes it).",
)
@click.option("--intended-use", help="Store what the model is for (same as --set intended_use=).")
@click.option("--limitations", help="Store where it falls short (same as --set limitations=).")
@PROJECT
@click.pass_context
def card(
    ctx: click.Context,
    ref: str,
    as_html: bool,
    output: Path | None,
    assignments: tuple[str, ...],
    intended_use: str | None,
    limitations: str | None,
    project: str | None,
) -> None:
    """A version's model card (NAME@vN, NAME@alias): use, data, metrics, signature, lineage.

    \b
    slipway model card churn@v3 --intended-use "Rank accounts for retention calls"
    slipway model card churn@v3 --html --output churn-v3.html
    """
    texts = _texts(assignments, intended_use=intended_use, limitations=limitations)
    sdk = models(ctx)
    if texts:
        version = sdk.set_card(ref, project=project, **texts)
        click.echo(f"{version.ref}: stored {', '.join(sorted(texts))}", err=True)
        ref = version.ref  # an alias could move before the card is read
    from slipway.models import card_html, card_markdown

    found = sdk.card(ref, project=project)
    html = as_html or (output is not None and output.suffix.lower() in {".html", ".htm"})
    text = card_html(found) if html else card_markdown(found)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{found.version.ref}: card written to {output}", err=True)


def _texts(
    assignments: tuple[str, ...], *, intended_use: str | None, limitations: str | None
) -> dict[str, str]:
    """The card texts to store, by key; a key given twice is refused (which one was meant?)."""
    found: dict[str, str] = {}
    pairs = [a.partition("=") for a in assignments]
    options = [("intended_use", "=", intended_use), ("limitations", "=", limitations)]
    for key, sign, text in [*pairs, *options]:
        if text is None:
            continue
        if not sign or key.strip() not in _KEYS:
            raise click.UsageError(
                f"--set takes intended_use=TEXT or limitations=TEXT, not {key!r}"
            )
        if key.strip() in found:
            raise click.UsageError(f"{key.strip()} is given twice; give it once")
        found[key.strip()] = text
    return found
