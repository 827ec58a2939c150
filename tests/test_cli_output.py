"""Output files: never an input, written whole or not at all, errors that say what to do."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from csrules.cli.output import OutputError, PendingOutput, cannot_write, refuse_input_as_output


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.jsonl"
    path.write_text('{"id": "a1"}\n', encoding="utf-8")
    return path


def test_the_input_is_refused_by_any_name(tmp_path: Path, snapshot: Path) -> None:
    inputs = {snapshot: "the snapshot being read (--snapshot 'accounts.jsonl')"}
    (tmp_path / "link.jsonl").symlink_to(snapshot)
    os.link(snapshot, tmp_path / "hard.jsonl")
    (tmp_path / "sub").mkdir()
    for name in ("accounts.jsonl", "link.jsonl", "hard.jsonl", "sub/../accounts.jsonl"):
        with pytest.raises(OutputError) as caught:
            refuse_input_as_output(tmp_path / name, inputs)
        assert caught.value.exit_code == 2
        assert caught.value.message == (
            f"--output '{tmp_path / name}' is the snapshot being read (--snapshot "
            "'accounts.jsonl'); writing the results there would destroy it. Choose another "
            "output file"
        )
    (tmp_path / "other.jsonl").write_text("{}", encoding="utf-8")
    refuse_input_as_output(tmp_path / "other.jsonl", inputs)
    refuse_input_as_output(tmp_path / "new.jsonl", inputs)
    refuse_input_as_output(tmp_path / "new.jsonl", {})


def test_a_commit_replaces_the_output_whole(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("previous\n", encoding="utf-8")
    out.chmod(0o640)
    with PendingOutput(out) as pending:
        assert pending.temporary.parent == tmp_path and pending.temporary.exists()
        assert out.read_text(encoding="utf-8") == "previous\n"  # untouched until commit
        pending.commit(lambda path: pl.DataFrame({"a": [1, 2]}).write_csv(path))
    assert out.read_text(encoding="utf-8") == "a\n1\n2\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("previous\n", encoding="utf-8")

    def half_then_full(path: Path) -> None:
        path.write_text("half a fi", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError) as caught, PendingOutput(out) as pending:
        pending.commit(half_then_full)
    assert caught.value.message == (
        f"cannot write --output '{out}': the disk is full (or the disk quota is used up); "
        f"free some space, or choose another disk. Nothing was written; the previous "
        f"'{out}' is left as it was"
    )
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert leftovers(tmp_path) == []


def test_work_that_fails_before_the_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    with pytest.raises(KeyError), PendingOutput(out):
        raise KeyError("not an output problem")
    assert not out.exists() and leftovers(tmp_path) == []

    def bug(path: Path) -> None:
        raise ValueError("a bug, reported as itself")

    with pytest.raises(ValueError, match="a bug"), PendingOutput(out) as pending:
        pending.commit(bug)
    assert leftovers(tmp_path) == []


def test_a_symlinked_output_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "r.csv").write_text("old", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(real / "r.csv")
    with PendingOutput(link) as pending:
        assert pending.temporary.parent == real
        pending.commit(lambda path: path.write_text("new", encoding="utf-8"))
    assert link.is_symlink() and (real / "r.csv").read_text(encoding="utf-8") == "new"


def test_an_unwritable_folder_fails_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "accounts.csv"
    blocker.write_text("x", encoding="utf-8")
    cases = {
        tmp_path / "missing" / "r.csv": f"the folder '{tmp_path / 'missing'}' does not exist; "
        "create it, or choose another path",
        blocker / "r.csv": f"'{blocker}' is a file, not a folder; choose another path",
        Path("/proc/r.csv"): "the folder '/proc' does not accept new files; choose another folder",
    }
    for path, why in cases.items():
        with pytest.raises(OutputError) as caught:
            PendingOutput(path)
        assert caught.value.message == f"cannot write --output '{path}': {why}. Nothing was written"


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
        (OSError(errno.EACCES, "Permission denied"), "permission denied; write to a folder"),
        (OSError(errno.EISDIR, "Is a directory"), "it is a folder; name a file inside it"),
        (
            OSError(errno.EFBIG, "File too large"),
            "the file is larger than this system lets csrules write",
        ),
        # polars loses errno and keeps it in its message
        (
            pl.exceptions.ComputeError(
                "underlying IO error: No space left on device (os error 28)"
            ),
            "the disk is full",
        ),
        (OSError("No space left on device (os error 28)"), "the disk is full"),
        (OSError(errno.EIO, "Input/output error"), "Input/output error; choose another path"),
    ],
)
def test_each_failure_says_what_to_do(tmp_path: Path, error: BaseException, why: str) -> None:
    message = cannot_write(tmp_path / "r.csv", error).message
    assert message.startswith(f"cannot write --output '{tmp_path / 'r.csv'}': {why}")
    assert message.endswith(". Nothing was written")
