"""``csrules history`` on a repository with many commits touching the playbooks.

Builds (with ``git fast-import``, in a temporary folder) a repository whose first
commit holds the reference playbooks and whose next ``--commits`` commits (1,000 by
default) each change one rule file: a third change a threshold or a weight for real,
a third only reformat or comment, a third alternate between two files for a measure's
weight. Then runs, timed (best of ``--repeat``):

- the whole changelog (``rule_history`` without a rule), in this process;
- ``csrules history tier:pooled --format json`` as a user runs it (a fresh process).

It prints the times, how many commits were read, how many entries were found, and
checks that every real change is there and no formatting-only commit is.

    python benchmarks/bench_history.py
    python benchmarks/bench_history.py --commits 50 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
POOLED = "account.arr >= 15000.0"
WEIGHT = "weight = 25.0"


def _files() -> dict[str, str]:
    return {
        p.relative_to(PLAYBOOKS).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(PLAYBOOKS.rglob("*.toml"))
    }


def _blob(path: str, text: str) -> bytes:
    data = text.encode("utf-8")
    return f"M 100644 inline playbooks/{path}\ndata {len(data)}\n".encode() + data + b"\n"


def build(repo: Path, commits: int) -> int:
    """The repository; returns how many commits change a rule for real."""
    subprocess.run(
        ["git", "init", "-q", "-b", "main", str(repo)], check=True, env={**os.environ, **GIT_ENV}
    )
    files = _files()
    stream: list[bytes] = []
    when = 1_700_000_000

    def commit(message: str, changed: dict[str, str]) -> None:
        nonlocal when
        when += 3600
        msg = message.encode()
        head = (
            f"commit refs/heads/main\ncommitter bench <bench@example.com> {when} +0000\n"
            f"data {len(msg)}\n"
        ).encode()
        stream.append(
            head + msg + b"\n" + b"".join(_blob(p, t) for p, t in changed.items()) + b"\n"
        )

    commit("reference playbooks", files)
    real = 0
    for n in range(commits):
        kind = n % 3
        if kind == 0:  # a real change of the pooled threshold
            new = f"account.arr >= {15000 + 10 * (n + 1)}.0"
            files["tiers.toml"] = files["tiers.toml"].replace(POOLED, new, 1)
            globals()["POOLED"] = new
            commit(f"pooled threshold {n}", {"tiers.toml": files["tiers.toml"]})
            real += 1
        elif kind == 1:  # a comment only
            files["segments.toml"] += f"# reviewed {n}\n"
            commit(f"comment {n}", {"segments.toml": files["segments.toml"]})
        else:  # a real change of a weight
            new = f"weight = {25 + (n % 7)}.5"
            files["health.toml"] = files["health.toml"].replace(WEIGHT, new, 1)
            globals()["WEIGHT"] = new
            commit(f"weight {n}", {"health.toml": files["health.toml"]})
            real += 1
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input=b"".join(stream),
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    return real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    from csrules.gitrev.git import repository
    from csrules.gitrev.history import rule_history

    with tempfile.TemporaryDirectory(prefix="csrules-bench-history-") as folder:
        repo = Path(folder) / "repo"
        started = time.perf_counter()
        real = build(repo, args.commits)
        print(f"built {args.commits + 1} commits in {time.perf_counter() - started:.1f} s")
        root = repo / "playbooks"
        best = float("inf")
        history = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            history = rule_history(repository(root))
            best = min(best, time.perf_counter() - started)
        assert history is not None
        changed = len(history.entries) - 1  # the first commit adds every rule
        print(
            f"changelog: {history.commits} commits read, {changed} with rule changes "
            f"(expected {real}), best of {args.repeat}: {best:.2f} s"
        )
        assert changed == real, (changed, real)
        best_cli = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "csrules",
                    "history",
                    "tier:pooled",
                    "--format",
                    "json",
                    "--playbooks",
                    str(root),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            best_cli = min(best_cli, time.perf_counter() - started)
        entries = json.loads(done.stdout)["entries"]
        print(
            f"csrules history tier:pooled: {len(entries)} entries, best of {args.repeat}: {best_cli:.2f} s"
        )
        assert len(entries) == 1 + (args.commits + 2) // 3


if __name__ == "__main__":
    main()
