"""read_toml: only regular files inside the playbook directory, read with a bound.

A regression here hangs (a FIFO) or eats the machine's memory (/dev/zero), so every
read that could do either runs in a thread with a generous timeout: a regression
fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from csrules.errors import Diagnostic
from csrules.load.loader import discover_files, load_playbook
from csrules.load.tomlfile import DEFAULT_FILE_SIZE, TomlDocument, read_toml

TIMEOUT = 60.0


def read_within_timeout(path: Path, **kwargs: Any) -> TomlDocument | Diagnostic:
    result: list[TomlDocument | Diagnostic] = []
    worker = threading.Thread(
        target=lambda: result.append(read_toml(path, path, **kwargs)), daemon=True
    )
    worker.start()
    worker.join(TIMEOUT)
    assert not worker.is_alive(), f"reading {path} did not finish in {TIMEOUT}s"
    return result[0]


def refused(result: TomlDocument | Diagnostic, code: str) -> Diagnostic:
    assert isinstance(result, Diagnostic), "the file was read"
    assert result.code == code, result.render()
    return result


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('x = "1"\n', encoding="utf-8")
    doc = read_within_timeout(tmp_path / "a.toml", root=tmp_path)
    assert isinstance(doc, TomlDocument) and doc.data == {"x": "1"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.toml")
    diag = refused(read_within_timeout(tmp_path / "x.toml", root=tmp_path), "not-a-file")
    assert "is a named pipe (FIFO), not a regular file" in diag.message
    assert "rename it so it does not end in .toml" in diag.message


def test_a_device_is_refused(tmp_path: Path) -> None:
    diag = refused(read_within_timeout(Path("/dev/zero")), "not-a-file")
    assert "character device" in diag.message


def test_a_link_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    root.mkdir()
    (tmp_path / "elsewhere.toml").write_text("x = 1\n", encoding="utf-8")
    (root / "zero.toml").symlink_to("/dev/zero")
    (root / "away.toml").symlink_to(tmp_path / "elsewhere.toml")
    for name in ("zero.toml", "away.toml"):
        diag = refused(read_within_timeout(root / name, root=root), "outside")
        assert "outside the playbook directory" in diag.message
        assert "copy the file in" in diag.message


def test_a_link_inside_the_directory_is_followed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "real.toml").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "alias.toml").symlink_to(Path("sub") / "real.toml")
    doc = read_within_timeout(tmp_path / "alias.toml", root=tmp_path)
    assert isinstance(doc, TomlDocument) and doc.data == {"x": 1}


def test_a_link_loop_is_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "a.toml").symlink_to("b.toml")
    (tmp_path / "b.toml").symlink_to("a.toml")
    diag = refused(read_within_timeout(tmp_path / "a.toml", root=tmp_path), "unreadable")
    assert "cannot read file" in diag.message


def test_the_size_limit_is_applied_and_named(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 200 + "\n", encoding="utf-8")
    diag = refused(read_within_timeout(path, limit=100), "too-large")
    assert "over the limit of 100 ([limits] file_size in csrules.toml)" in diag.message
    assert (diag.location and diag.location.line) == 1
    assert isinstance(read_within_timeout(path, limit=1000), TomlDocument)


def test_the_default_limit_is_four_mebibytes(tmp_path: Path) -> None:
    assert DEFAULT_FILE_SIZE == 4 * 1024 * 1024
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * DEFAULT_FILE_SIZE + "\n", encoding="utf-8")
    refused(read_within_timeout(path), "too-large")


def test_folder_links_are_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    (root / "rules").mkdir(parents=True)
    (root / "rules" / "a.toml").write_text("", encoding="utf-8")
    (root / "rules" / "loop").symlink_to("..")  # a loop: the walk would never end
    (root / "again").symlink_to("rules")  # inside: read where it is, not twice
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "b.toml").write_text("", encoding="utf-8")
    (root / "shared").symlink_to(tmp_path / "shared")
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(discover_files(root)), daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    assert not worker.is_alive(), "the directory walk did not finish"
    found = result[0]
    assert found.rules == [root / "rules" / "a.toml"]
    assert found.outside == [root / "shared"]


def test_the_loader_reports_each_refused_file_and_reads_the_others(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(
        '[project]\nname = "t"\n[snapshot]\nkey = "id"\n[snapshot.fields]\nid = "string"\n'
        "[limits]\nfile_size = 200\n",
        encoding="utf-8",
    )
    (root / "a.toml").write_text('[[segment]]\nid = "s"\nwhen = "true"\n', encoding="utf-8")
    (root / "big.toml").write_text("# " + "x" * 300 + "\n", encoding="utf-8")
    (root / "zero.toml").symlink_to("/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.toml")
    (tmp_path / "shared").mkdir()
    (root / "shared").symlink_to(tmp_path / "shared")
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(load_playbook(root)), daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    assert not worker.is_alive(), "loading did not finish"
    loaded = result[0]
    assert [s.id for s in loaded.segments] == ["s"]
    by_file = {Path(str(d.location.path)).name: d for d in loaded.diagnostics.items}
    assert by_file["big.toml"].code == "too-large"
    assert by_file["zero.toml"].code == "outside"
    if hasattr(os, "mkfifo"):
        assert by_file["pipe.toml"].code == "not-a-file"
    assert by_file["shared"].severity.value == "warning"
    assert "does not follow it" in by_file["shared"].message
