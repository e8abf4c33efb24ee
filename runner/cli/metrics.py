"""``challenge-runner metrics``: list the metric registry."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def metrics(as_json: bool) -> None:
    """List the metrics a challenge.yaml may name, with direction, range and kind.

    kind is what the predictions column must be: probability (in [0, 1]), label, or
    number. Custom metrics come from the challenge's scoring.py instead.
    """
    from runner.metrics import REGISTRY

    rows = [
        {
            "name": m.name,
            "higher_is_better": m.higher_is_better,
            "range": list(m.range),
            "kind": m.kind,
            "precision": m.precision,
            "description": m.description,
        }
        for m in (REGISTRY[name] for name in sorted(REGISTRY))
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        assert isinstance(row["range"], tuple | list)
        direction = "higher is better" if row["higher_is_better"] else "lower is better"
        low, high = row["range"]
        click.echo(
            f"{row['name']:<22} {direction:<17} [{low:g}, {high:g}]  {row['kind']:<12} "
            f"{row['description']}"
        )
