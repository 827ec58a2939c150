"""The connector base API: settings typed by the class, close() at the end of every run.

The run closes its connectors in a ``finally``: after a normal run, and when the
delivery phase raises something the outbox does not catch (here, a BaseException a
connector raises, as an interrupt would).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pluggy
import pytest
from pydantic import BaseModel, ConfigDict

from csrules.delivery.connector import (
    CheckResult,
    Connector,
    DeliveryResult,
    NoSettings,
    OutgoingAction,
)
from csrules.hooks import hookspecs, manager
from csrules.runs import apply
from csrules.runtime import compile_playbook
from csrules.snapshot import read_snapshot
from csrules.store import open_store

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


class ProbeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fail: bool = False


class ProbeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class Stop(BaseException):
    """What a delivery could raise that the outbox does not turn into a result."""


class Probe(Connector[ProbeSettings]):
    name = "probe"
    params_model = ProbeParams
    closed: ClassVar[list[str]] = []
    delivered: ClassVar[list[str]] = []

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        if self.settings.fail:  # typed: no isinstance check needed
            raise Stop
        self.delivered.append(action.id)
        return DeliveryResult("sent")

    def close(self) -> None:
        self.closed.append(self.instance)


class _Plugin:
    @hookspecs.hookimpl
    def register_connectors(self, register: Callable[[type[Connector[Any]]], None]) -> None:
        register(Probe)


def test_the_generic_argument_is_the_settings_model() -> None:
    assert Probe.settings_model is ProbeSettings
    probe = Probe("p", ProbeSettings(fail=True))
    assert probe.settings.fail is True
    with pytest.raises(TypeError, match="Probe needs ProbeSettings settings, not NoSettings"):
        Probe("p", NoSettings())  # type: ignore[arg-type]

    class Explicit(Connector[ProbeSettings]):
        name = "explicit"
        settings_model = ProbeSettings
        params_model = ProbeParams

        def deliver(self, action: OutgoingAction) -> DeliveryResult:
            return DeliveryResult("sent")

    assert Explicit.settings_model is ProbeSettings
    assert Explicit("e", ProbeSettings()).check() == [
        CheckResult("live check", "skipped", "this connector has no live check")
    ]
    with Explicit("e", ProbeSettings()) as used:  # a context manager that closes
        assert used.instance == "e"


def _playbook(tmp_path: Path, *, fail: bool) -> Path:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(
        '[project]\nname = "t"\n[snapshot]\nkey = "id"\nsource = "accounts.jsonl"\n'
        '[snapshot.fields]\nid = "string"\n'
        f'[connectors.probe]\nplugin = "probe"\nfail = {str(fail).lower()}\n',
        encoding="utf-8",
    )
    (root / "rules.toml").write_text(
        '[[playbook]]\nid = "always"\nwhen = "true"\n'
        '[[playbook.action]]\nconnector = "probe"\ntext = "hi {{ account.id }}"\n',
        encoding="utf-8",
    )
    (root / "accounts.jsonl").write_text('{"id": "a-1"}\n', encoding="utf-8")
    return root


def _pm() -> pluggy.PluginManager:
    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(_Plugin(), name="probe-plugin")
    return pm


@pytest.mark.parametrize("fail", [False, True])
def test_every_run_closes_its_connectors(tmp_path: Path, fail: bool) -> None:
    Probe.closed.clear()
    root = _playbook(tmp_path, fail=fail)
    pm = _pm()
    compiled = compile_playbook(root, now=NOW, pm=pm)
    batch = read_snapshot(root / "accounts.jsonl", compiled.project.snapshot, pm=pm)
    store = open_store("sqlite:///state.db", base_dir=root)
    try:
        if fail:
            with pytest.raises(Stop):
                apply(compiled, batch, store, NOW, pm=pm, clock=lambda: NOW)
        else:
            outcome = apply(compiled, batch, store, NOW, pm=pm, clock=lambda: NOW)
            assert outcome.delivery is not None and len(outcome.delivery.sent) == 1
    finally:
        store.close()
    assert Probe.closed == ["probe"]
