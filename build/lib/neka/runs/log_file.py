"""Records for the run's log file alone. The summary and the command that continues an
interrupted run are printed bare, to be read and copied; logged the usual way they would
appear on the console a second time, prefixed, since Hydra's console handler shows every record."""

import logging


def write_to_log_file(logger: logging.Logger, level: int, message: str) -> None:
    """Hands the record to the root logger's file handlers only (Hydra's train.log)."""
    record = logger.makeRecord(logger.name, level, "", 0, message, (), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
