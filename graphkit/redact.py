"""Keeping credentials out of everything graphkit prints, logs or writes: :func:`redact`.

A credential reaches graphkit in one of three shapes:

- inside a URL's user information: ``bolt://user:pw@host:7687``,
  ``https://user:token@host/videos.parquet``, ``s3://KEY:SECRET@bucket/x``;
- as a URL query parameter that carries a token or a signature:
  ``https://host/x.parquet?token=...``, ``...&X-Amz-Signature=...``;
- as a value given on its own: ``--password`` or ``NEO4J_PASSWORD``.

:func:`redact` masks the first two by their shape, keeping a user name
(``bolt://user:***@host``), and the third by value once
:func:`register_secret` has been told it (the Neo4j connection does so for
its password). Every message graphkit shows goes through it: the command
line's error lines, results and ``--json`` objects, the logs
(:class:`RedactingFilter`), the ``str`` of every
:class:`~graphkit.errors.GraphkitError`, and the JSON files a dataset or a
training run writes (``manifest.json``, ``config.json``, ``result.json``).
A value graphkit masked can be recognised by :func:`is_redacted`.

Examples:
    >>> redact("cannot reach bolt://neo4j:s3cret@db.example.org:7687")
    'cannot reach bolt://neo4j:***@db.example.org:7687'
    >>> redact("https://hf.co/x.parquet?revision=main&token=hf_abc123")
    'https://hf.co/x.parquet?revision=main&token=***'
    >>> register_secret("correct horse battery")
    >>> redact("password 'correct horse battery' refused")
    "password '***' refused"
"""

from __future__ import annotations

import logging
import re

__all__ = ["MASK", "RedactingFilter", "install_log_redaction", "is_redacted", "redact", "register_secret"]

#: What a credential is replaced with.
MASK: str = "***"

#: Registered values shorter than this are not masked by value: a password
#: such as ``"x"`` would mask every ``x`` of a message, and hide what it says.
_MIN_SECRET_LENGTH = 4

# scheme://USERINFO@ : the user information ends at the first '@' before the host.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*:///?)(?P<userinfo>[^\s/?#@'\"]+)@")
# ?name=VALUE / &name=VALUE for names that carry a credential.
_SECRET_PARAMETER = re.compile(
    r"(?P<head>[?&;](?:[A-Za-z0-9_.\-]*[_.\-])?(?:password|passwd|pwd|token|secret|signature|sig|key|apikey"
    r"|credential|auth)=)(?P<value>[^&;#\s'\"]+)",
    re.IGNORECASE,
)

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever :func:`redact` finds it from now on (in this process).

    Values shorter than four characters are not masked by value (they would
    mask parts of ordinary words); masking by shape still applies.

    Args:
        value (str, optional): A password or token; :obj:`None` or ``""`` is ignored.
    """
    if value and len(value) >= _MIN_SECRET_LENGTH:
        _secrets.add(value)


def _mask_userinfo(match: re.Match) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    kept = f"{user}:{MASK}" if colon else MASK
    return f"{match['scheme']}{kept}@"


def redact(text: str) -> str:
    """``text`` with every credential masked (see the module's description).

    Args:
        text (str): A message, a log line, a JSON document.

    Returns:
        str: The same text with credentials replaced by :data:`MASK`.

    Examples:
        >>> redact("bolt://127.0.0.1:7687 and s3://AKIA:wJalr@bucket/key")
        'bolt://127.0.0.1:7687 and s3://AKIA:***@bucket/key'
        >>> redact("https://ghp_token123@github.com/x")
        'https://***@github.com/x'
    """
    if not isinstance(text, str):
        text = str(text)
    if "://" in text:
        text = _USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(lambda m: m["head"] + MASK, text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def is_redacted(text: str) -> bool:
    """Whether ``text`` holds a credential that :func:`redact` masked.

    Examples:
        >>> is_redacted(redact("https://user:pw@host/x.parquet")), is_redacted("x.parquet")
        (True, False)
    """
    return f":{MASK}@" in text or f"://{MASK}@" in text or f"={MASK}" in text


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in every record it passes.

    The record's message is formatted once with its arguments and redacted,
    so a credential in an argument (a URI, an exception) is masked too.

    Examples:
        >>> record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting to %s",
        ...                            ("bolt://neo4j:pw@host",), None)
        >>> RedactingFilter().filter(record), record.getMessage()
        (True, 'connecting to bolt://neo4j:***@host')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add a :class:`RedactingFilter` to every handler of ``logger`` (default: the root logger).

    A filter on a handler sees every record the handler writes, whichever
    logger emitted it; call this after the handlers are configured.
    """
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
