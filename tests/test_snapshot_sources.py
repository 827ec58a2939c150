"""Snapshot sources around the formats: compressed files, standard input, object
storage (against moto's S3 server on loopback) and the URL forms a source plugin gets."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard

from csrules.hooks import manager
from csrules.hooks.hookspecs import hookimpl
from csrules.runtime import compile_playbook
from csrules.snapshot import AccountBatch, SnapshotError, SnapshotSpec, read_snapshot
from csrules.snapshot.stdin import format_of
from tests.conftest import REFERENCE, run_cli

SAMPLE = REFERENCE / "data" / "accounts.jsonl"


@pytest.fixture(scope="module")
def spec() -> SnapshotSpec:
    return compile_playbook(REFERENCE).spec


@pytest.fixture(scope="module")
def plain(spec: SnapshotSpec) -> AccountBatch:
    return read_snapshot(SAMPLE, spec)


def _same(batch: AccountBatch, plain: AccountBatch) -> None:
    assert batch.frame.equals(plain.frame)
    assert batch.sha256 == plain.sha256  # the hash of the data, not of its wrapping
    assert [r.message for r in batch.rejected] == [r.message for r in plain.rejected]


def test_gzip_and_zstd_read_as_the_file_inside(
    tmp_path: Path, spec: SnapshotSpec, plain: AccountBatch
) -> None:
    data = SAMPLE.read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    # two zstd frames one after the other are one file, like two gzip members
    half = len(data) // 2
    cut = data.index(b"\n", half) + 1
    two = zstandard.ZstdCompressor().compress(data[:cut])
    two += zstandard.ZstdCompressor().compress(data[cut:])
    (tmp_path / "b.JSONL.ZST").write_bytes(two)
    for name in ("a.jsonl.gz", "a.jsonl.zst", "b.JSONL.ZST"):
        batch = read_snapshot(name, spec, base_dir=tmp_path)
        _same(batch, plain)
        assert batch.source == name


def test_a_cut_compressed_file_is_refused(tmp_path: Path, spec: SnapshotSpec) -> None:
    data = SAMPLE.read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data)[:-9])
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data)[:-9])
    for name, kind in (("a.jsonl.gz", "gzip"), ("a.jsonl.zst", "zstd")):
        with pytest.raises(SnapshotError) as caught:
            read_snapshot(name, spec, base_dir=tmp_path)
        assert caught.value.exit_code == 2
        assert caught.value.message == (
            f"snapshot '{name}' is cut short: the {kind} data ends before its end marker, "
            "so the file is incomplete (a copy or an export that did not finish); copy or "
            "export it again"
        )
    (tmp_path / "bad.csv.gz").write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(SnapshotError, match=r"'bad.csv.gz' is not valid gzip data"):
        read_snapshot("bad.csv.gz", spec, base_dir=tmp_path)
    (tmp_path / "accounts.gz").write_bytes(gzip.compress(data))
    with pytest.raises(SnapshotError, match=r"the name 'accounts' says no file type"):
        read_snapshot("accounts.gz", spec, base_dir=tmp_path)


def test_bad_records_inside_a_compressed_file_keep_their_lines(
    tmp_path: Path, spec: SnapshotSpec
) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    lines[2] = b'{"account_id": "x-3", "arr": "lots"}\n'
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(b"".join(lines)))
    batch = read_snapshot("a.jsonl.gz", spec, base_dir=tmp_path)
    assert [(r.source, r.line, r.key) for r in batch.rejected] == [("a.jsonl.gz", 3, "x-3")]


def test_stdin_formats_are_recognised() -> None:
    assert format_of(b"\x1f\x8b\x08") == "stdin.gz"
    assert format_of(b"\x28\xb5\x2f\xfd") == "stdin.zst"
    assert format_of(b"PAR1....") == "stdin.parquet"
    assert format_of(b'\xef\xbb\xbf\n  {"a": 1}') == "stdin.jsonl"
    assert format_of(b"account_id,arr\n") == "stdin.csv"


def test_evaluate_from_stdin_is_the_evaluation_of_the_file(tmp_path: Path) -> None:
    args = ("evaluate", "--playbooks", str(REFERENCE), "--as-of", "2026-03-01", "--format")
    from_file = run_cli(*args, "json", "--snapshot", str(SAMPLE))
    frame = pl.read_ndjson(SAMPLE)
    frame.write_parquet(tmp_path / "a.parquet")
    parquet = (tmp_path / "a.parquet").read_bytes()
    for data in (SAMPLE.read_bytes(), gzip.compress(SAMPLE.read_bytes()), parquet):
        from_stdin = _run_with_input(data, *args, "json", "--snapshot", "-")
        assert from_stdin.exit_code == from_file.exit_code
        assert from_stdin.output == from_file.output


def _run_with_input(data: bytes, *args: str) -> Any:
    from click.testing import CliRunner

    from csrules.cli.main import build_cli

    return CliRunner().invoke(build_cli(), list(args), input=data, catch_exceptions=False)


def test_stdin_records_are_located_as_stdin(spec: SnapshotSpec) -> None:
    result = _run_with_input(
        b'{"account_id": "x-1"}\n',
        "evaluate",
        "--playbooks",
        str(REFERENCE),
        "--format",
        "json",
        "--snapshot",
        "-",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:1: account 'x-1': missing required field")


# ------------------------------------------------------------------------ object storage


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on loopback, with the AWS variables pointing every client at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in _AWS}
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


_AWS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def _upload(endpoint: str, objects: dict[str, bytes]) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="exports")
    for key, body in objects.items():
        client.put_object(Bucket="exports", Key=key, Body=body)


def test_s3_objects_read_like_files(
    s3_server: str, tmp_path: Path, spec: SnapshotSpec, plain: AccountBatch
) -> None:
    pl.read_ndjson(SAMPLE).write_parquet(tmp_path / "a.parquet")
    from_parquet = read_snapshot(tmp_path / "a.parquet", spec)
    _upload(
        s3_server,
        {
            "crm/accounts.jsonl.gz": gzip.compress(SAMPLE.read_bytes()),
            "crm/accounts.parquet": (tmp_path / "a.parquet").read_bytes(),
        },
    )
    batch = read_snapshot("s3://exports/crm/accounts.jsonl.gz", spec)
    _same(batch, plain)
    assert batch.source == "s3://exports/crm/accounts.jsonl.gz"
    assert read_snapshot("s3://exports/crm/accounts.parquet", spec).frame.equals(from_parquet.frame)
    with pytest.raises(SnapshotError) as caught:
        read_snapshot("s3://exports/crm/missing.jsonl", spec)
    assert caught.value.message == (
        "snapshot 's3://exports/crm/missing.jsonl' not found; check the bucket and the "
        "object's path"
    )
    with pytest.raises(SnapshotError, match="names no object"):
        read_snapshot("s3://exports/", spec)
    # the CLI gives the evaluation of the same data from a file
    args = ("evaluate", "--playbooks", str(REFERENCE), "--as-of", "2026-03-01", "--format")
    from_file = run_cli(*args, "json", "--snapshot", str(SAMPLE))
    from_s3 = run_cli(*args, "json", "--snapshot", "s3://exports/crm/accounts.jsonl.gz")
    assert from_s3.output == from_file.output
    assert from_s3.exit_code == from_file.exit_code


def test_a_missing_cloud_library_says_what_to_install(spec: SnapshotSpec) -> None:
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    with pytest.raises(SnapshotError) as caught:
        read_snapshot("gs://exports/accounts.parquet", spec)
    assert caught.value.message == (
        "snapshot 'gs://exports/accounts.parquet': reading gs:// URLs needs the gcsfs "
        "package; install it with pip install gcsfs"
    )


# ------------------------------------------------------------------------ the URL forms


class _UrlPlugin:
    """A source plugin for a scheme: it records what it was handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str]] = []

    @hookimpl
    def register_sources(self, register: Callable[[str, Any], None]) -> None:
        def read(url: Any, spec: SnapshotSpec, display: str) -> AccountBatch:
            self.calls.append((url, display))
            raise SnapshotError(f"snapshot '{display}': nothing here")

        register("warehouse:", read)


def test_a_scheme_reader_gets_the_url_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = _UrlPlugin()
    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name="url")
    spec = compile_playbook(REFERENCE).spec
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "s3cret-value")
    for url in (
        "warehouse:///var/data/file.db?table=accounts",
        "warehouse://etl:${WAREHOUSE_PASSWORD}@db.internal:5432/crm?query=select 1",
        "warehouse://etl:literal-pass@db.internal/crm",
    ):
        with pytest.raises(SnapshotError) as caught:
            read_snapshot(url, spec, pm=pm)
        assert "s3cret-value" not in caught.value.message
        assert "literal-pass" not in caught.value.message
    assert plugin.calls == [
        (
            "warehouse:///var/data/file.db?table=accounts",
            "warehouse:///var/data/file.db?table=accounts",
        ),
        (
            "warehouse://etl:s3cret-value@db.internal:5432/crm?query=select 1",
            "warehouse://etl:***@db.internal:5432/crm?query=select 1",
        ),
        (
            "warehouse://etl:literal-pass@db.internal/crm",
            "warehouse://etl:***@db.internal/crm",
        ),
    ]
    with pytest.raises(SnapshotError, match="environment variable NOT_SET_HERE is not set"):
        read_snapshot("warehouse://${NOT_SET_HERE}@h/x", spec, pm=pm)


def test_snapshot_file_is_none_for_stdin_and_urls(tmp_path: Path) -> None:
    from csrules.snapshot import snapshot_file

    assert snapshot_file("-") is None
    assert snapshot_file("s3://exports/accounts.parquet") is None
    assert snapshot_file("a.jsonl.gz", base_dir=tmp_path) == tmp_path / "a.jsonl.gz"


def test_parquet_text_timestamps_parse_like_json_lines(tmp_path: Path, spec: SnapshotSpec) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)[:6]
    records = [json.loads(line) for line in lines]
    records[1]["renewal_date"] = "2026-11-12"
    records[2]["renewal_date"] = "2026-11-12 18:56:52.1234567+02:00"
    records[3]["renewal_date"] = "soon"
    records[4]["renewal_date"] = None
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    from_jsonl = read_snapshot(tmp_path / "a.jsonl", spec)
    pl.read_ndjson(tmp_path / "a.jsonl").write_parquet(tmp_path / "a.parquet")
    from_parquet = read_snapshot(tmp_path / "a.parquet", spec)
    assert from_parquet.frame.equals(from_jsonl.frame)
    assert [(r.line, r.key, r.message) for r in from_parquet.rejected] == [
        (r.line, r.key, r.message) for r in from_jsonl.rejected
    ]
    assert len(from_parquet.rejected) == 3
