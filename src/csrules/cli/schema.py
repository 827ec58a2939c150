"""``csrules schema``: write or check the JSON Schemas of every file kind."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.model.jsonschema import file_schemas


def render_schema(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.command("schema")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Folder to write the schemas into.",
)
@click.option("--check", is_flag=True, help="Only check the files are current; exit 1 if not.")
def schema_command(out_dir: Path, check: bool) -> None:
    """Write the JSON Schemas of csrules.toml, rule files and test files.

    Editors use them to complete and check playbook files: start a file with
    '#:schema ../schemas/rules.schema.json'. With --check, nothing is written and the
    exit status is 1 when a schema file is missing or out of date (for CI).
    """
    stale: list[str] = []
    for name, schema in file_schemas().items():
        path = out_dir / name
        text = render_schema(schema)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if check:
            stale.append(f"{path}: {'missing' if current is None else 'out of date'}")
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    if check:
        if stale:
            for line in stale:
                click.echo(line)
            click.echo("run 'csrules schema' and commit the result")
            raise SystemExit(1)
        click.echo(f"{out_dir}: schemas are current")
