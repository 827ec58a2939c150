"""Snapshots in cloud object storage: ``s3://``, ``gs://`` and ``az://`` URLs.

The object is streamed through fsspec (``s3fs``, ``gcsfs`` or ``adlfs``, whichever the
scheme needs) into a temporary file, and read by the reader of the object's name:
``s3://exports/accounts.parquet`` as Parquet, ``gs://exports/accounts.jsonl.gz`` as
gzip-compressed JSON Lines. Credentials and endpoints come from where each library
looks for them (``AWS_*`` variables and ``~/.aws``, Google application credentials,
``AZURE_STORAGE_*``); csrules keeps none of them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from csrules.redaction import redact_text
from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.load import SnapshotError
from csrules.snapshot.spool import copy, read_spooled

PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs"}


def _filesystem(url: str, display: str) -> tuple[Any, str]:
    scheme = urlsplit(url).scheme
    package = PACKAGES.get(scheme, "an fsspec filesystem")
    try:
        import fsspec

        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError:
        raise SnapshotError(
            f"snapshot '{display}': reading {scheme}:// URLs needs the {package} package; "
            f"install it with pip install {package}"
        ) from None


def read_object(url: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    """Read the object ``url`` names, by the format its name says."""
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not parts.netloc or not name:
        raise SnapshotError(
            f"snapshot '{display}' names no object; write {parts.scheme}://BUCKET/PATH/"
            "accounts.jsonl (or .csv, .parquet, optionally .gz or .zst)"
        )
    fs, path = _filesystem(url, display)
    try:
        handle = fs.open(path, "rb")
    except FileNotFoundError:
        raise SnapshotError(
            f"snapshot '{display}' not found; check the bucket and the object's path"
        ) from None
    except PermissionError:
        raise SnapshotError(
            f"snapshot '{display}' cannot be read: access denied; check the credentials "
            "and the bucket's permissions for the user running csrules"
        ) from None
    except Exception as exc:  # each filesystem raises its own errors
        raise SnapshotError(_failure(display, exc)) from None

    def fill(out: Any) -> None:
        try:
            with handle:
                copy(handle.read, out)
        except OSError:
            raise
        except Exception as exc:  # a connection dropped mid-object
            raise SnapshotError(_failure(display, exc)) from None

    return read_spooled(fill, name, spec, display)


def _failure(display: str, exc: Exception) -> str:
    detail = str(exc).splitlines()[0] if str(exc) else "no detail"
    return redact_text(
        f"snapshot '{display}' cannot be read ({type(exc).__name__}: {detail}); check the "
        "URL, the network and the credentials"
    )
