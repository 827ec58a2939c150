"""The ``csrules`` command group; commands live one per module beside this one."""

from __future__ import annotations

import sys

import click

from csrules import __version__
from csrules.cli.backtest import backtest_command
from csrules.cli.check import check_command
from csrules.cli.compile import compile_command
from csrules.cli.diff import diff_command
from csrules.cli.doctor import doctor_command
from csrules.cli.evaluate import evaluate_command
from csrules.cli.explain import explain_command
from csrules.cli.history import history_command
from csrules.cli.init import init_command
from csrules.cli.replay import replay_command
from csrules.cli.report import report_command
from csrules.cli.schema import schema_command
from csrules.cli.state import (
    ack_command,
    apply_command,
    audit_group,
    cases_command,
    plan_command,
    unlock_command,
)
from csrules.cli.statecmd import state_group
from csrules.cli.test import test_command
from csrules.cli.validate import validate_command
from csrules.errors import CsrulesError
from csrules.hooks.manager import plugin_manager
from csrules.logs import configure

BUILTIN_COMMANDS = (
    validate_command,
    test_command,
    check_command,
    evaluate_command,
    compile_command,
    explain_command,
    diff_command,
    history_command,
    report_command,
    backtest_command,
    plan_command,
    apply_command,
    doctor_command,
    ack_command,
    cases_command,
    audit_group,
    replay_command,
    unlock_command,
    state_group,
    schema_command,
    init_command,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="csrules")
@click.option("--verbose", "-v", is_flag=True, help="Log what csrules does (to stderr).")
def cli(verbose: bool) -> None:
    """Playbook-as-code for Customer Success.

    Validate, test and evaluate the health score, segments, coverage tiers, ADKAR
    diagnosis, playbooks and escalations kept in a directory of TOML files.
    """
    configure(verbose)


for _command in BUILTIN_COMMANDS:
    cli.add_command(_command)


def build_cli() -> click.Group:
    """The command group with the commands plugins add through ``register_commands``."""
    plugin_manager().hook.register_commands(cli=cli)
    return cli


def main() -> None:
    group = build_cli()
    try:
        group.main(prog_name="csrules", standalone_mode=True)
    except CsrulesError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
