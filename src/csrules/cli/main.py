"""The ``csrules`` command group; commands live one per module beside this one."""

from __future__ import annotations

import sys

import click

from csrules import __version__
from csrules.cli.lazy import LazyGroup

# name -> "module:attribute"; a command's module is imported only when it runs
BUILTIN_COMMANDS = {
    "validate": "csrules.cli.validate:validate_command",
    "test": "csrules.cli.test:test_command",
    "check": "csrules.cli.check:check_command",
    "evaluate": "csrules.cli.evaluate:evaluate_command",
    "compile": "csrules.cli.compile:compile_command",
    "explain": "csrules.cli.explain:explain_command",
    "diff": "csrules.cli.diff:diff_command",
    "history": "csrules.cli.history:history_command",
    "report": "csrules.cli.report:report_command",
    "backtest": "csrules.cli.backtest:backtest_command",
    "plan": "csrules.cli.state:plan_command",
    "apply": "csrules.cli.state:apply_command",
    "doctor": "csrules.cli.doctor:doctor_command",
    "ack": "csrules.cli.state:ack_command",
    "cases": "csrules.cli.state:cases_command",
    "audit": "csrules.cli.state:audit_group",
    "replay": "csrules.cli.replay:replay_command",
    "unlock": "csrules.cli.state:unlock_command",
    "state": "csrules.cli.statecmd:state_group",
    "schema": "csrules.cli.schema:schema_command",
    "init": "csrules.cli.init:init_command",
}


def _plugin_commands(group: click.Group) -> None:
    from csrules.hooks.manager import plugin_manager

    plugin_manager().hook.register_commands(cli=group)


@click.group(
    cls=LazyGroup,
    lazy_commands=BUILTIN_COMMANDS,
    load_plugins=_plugin_commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="csrules")
@click.option("--verbose", "-v", is_flag=True, help="Log what csrules does (to stderr).")
def cli(verbose: bool) -> None:
    """Playbook-as-code for Customer Success.

    Validate, test and evaluate the health score, segments, coverage tiers, ADKAR
    diagnosis, playbooks and escalations kept in a directory of TOML files.
    """
    from csrules.logs import configure

    configure(verbose)


def build_cli() -> click.Group:
    """The command group with every command loaded, built-in ones and those plugins add
    through ``register_commands`` (for documentation and tests that walk ``commands``)."""
    context = click.Context(cli, info_name="csrules")
    for name in BUILTIN_COMMANDS:
        cli.get_command(context, name)
    _plugin_commands(cli)
    return cli


def main() -> None:
    """The ``csrules`` program: plugins' commands are loaded only when one is asked for."""
    from csrules.errors import CsrulesError

    try:
        cli.main(prog_name="csrules", standalone_mode=True)
    except CsrulesError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
