"""What the file readers take, and how they name it in errors and logs.

:mod:`graphkit.loaders.json` and :mod:`graphkit.loaders.parquet` take a
:data:`FileLike`: a local path or an open binary file (from :func:`open`,
:func:`fsspec.open`, :class:`io.BytesIO`). Their errors quote the file by the
name :func:`describe_file` gives it: the path itself, else the file object's
``path`` (fsspec) or ``name`` (built-in files), else only its type. A caller
that knows a better name passes it as ``source`` instead (see
:class:`graphkit.loaders.config.Reader`).

Examples:
    >>> import io
    >>> describe_file("data/one.parquet"), describe_file(io.BytesIO())
    ('data/one.parquet', '<BytesIO>')
"""

from __future__ import annotations

import os
from typing import BinaryIO, Union

__all__ = ["FileLike", "describe_file"]

#: What a file reader reads: a local path (:obj:`str` or :class:`os.PathLike`)
#: or an open binary file object.
FileLike = Union[str, "os.PathLike[str]", BinaryIO]


def describe_file(file: object) -> str:
    """The name of a path or file object, for errors and logs.

    Args:
        file (object): A path (:obj:`str` or :class:`os.PathLike`) or a file
            object.

    Returns:
        str: The path; else the file object's ``path`` or ``name`` attribute
        when it is a string; else ``"<TypeName>"``.

    Examples:
        >>> import pathlib
        >>> describe_file(pathlib.Path("rows.jsonl"))
        'rows.jsonl'
    """
    if isinstance(file, (str, os.PathLike)):
        return os.fspath(file)
    for attribute in ("path", "name"):
        value = getattr(file, attribute, None)
        if isinstance(value, str):
            return value
    return f"<{type(file).__name__}>"
