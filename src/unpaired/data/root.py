"""Where datasets live: ``--data-dir``, else ``$UNPAIRED_DATA``, else ``~/.cache/unpaired``."""

from __future__ import annotations

import os
from pathlib import Path

from unpaired.errors import DataNotFoundError

ENV_VAR = "UNPAIRED_DATA"
DEFAULT = Path("~/.cache/unpaired")


def data_dir(explicit: str | os.PathLike[str] | None = None, *, must_exist: bool = True) -> Path:
    """Resolve the data directory.

    Order: ``explicit`` (the CLI's ``--data-dir``), ``$UNPAIRED_DATA``, ``~/.cache/unpaired``.
    With ``must_exist``, a directory that is not there is a :class:`DataNotFoundError`
    naming where it came from.
    """
    if explicit is not None and str(explicit) != "":
        path, source = Path(explicit), "--data-dir"
    elif os.environ.get(ENV_VAR):
        path, source = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        path, source = DEFAULT, "the default location"
    path = path.expanduser()
    if must_exist and not path.is_dir():
        raise DataNotFoundError(
            f"data directory {path} (from {source}) does not exist; create it or point "
            f"--data-dir / ${ENV_VAR} at the folder that holds the datasets"
        )
    return path.resolve() if path.exists() else path
