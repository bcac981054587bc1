from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from kapstone.audit.request_context import request_id_if_any

_QUERY = re.compile(r"\?[^\s\"]*")


class StripQueryStrings(logging.Filter):
    """Drops query strings from logged request lines: patient searches put names there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = _QUERY.sub("?…", str(record.msg))
        return True


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request (or command run) it belongs to, "-" outside both."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_if_any() or "-"
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line, with only the fields listed here.

    The library adds every ``extra`` attribute of a record by default; Django's request logger
    passes the request itself (whose repr holds the query string), so anything not listed is
    dropped rather than trusted.
    """

    FIELDS = ("time", "level", "logger", "message", "request_id", "exc_info", "stack_info")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", "request_id"])
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: log_data[key] for key in self.FIELDS if key in log_data}
