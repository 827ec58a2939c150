from pathlib import Path

import pytest

from csrules.errors import UsageError
from csrules.load.finder import find_playbook_dir


def _make(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "csrules.toml").write_text("", encoding="utf-8")
    return folder


def test_explicit_wins_over_environment(tmp_path: Path) -> None:
    a, b = _make(tmp_path, "a"), _make(tmp_path, "b")
    assert find_playbook_dir(a, environ={"CSRULES_PLAYBOOKS": str(b)}) == a


def test_environment_variable(tmp_path: Path) -> None:
    b = _make(tmp_path, "b")
    assert find_playbook_dir(None, environ={"CSRULES_PLAYBOOKS": str(b)}, cwd=tmp_path) == b


def test_upward_search(tmp_path: Path) -> None:
    root = _make(tmp_path, "repo")
    deep = root / "x" / "y"
    deep.mkdir(parents=True)
    assert find_playbook_dir(None, environ={}, cwd=deep) == root


def test_explicit_file_means_its_folder(tmp_path: Path) -> None:
    a = _make(tmp_path, "a")
    assert find_playbook_dir(a / "csrules.toml", environ={}) == a


def test_nothing_found_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pass --playbooks DIR") as info:
        find_playbook_dir(None, environ={}, cwd=tmp_path)
    assert info.value.exit_code == 2


def test_folder_without_project_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"has no csrules\.toml"):
        find_playbook_dir(tmp_path, environ={})
