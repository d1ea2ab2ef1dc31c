"""app/core/logging.py: the log file handler of a replaced configuration never reopens its file."""
if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import logging

from app.core.logging import LogFileHandler, configure_logging


def test_a_record_for_a_replaced_handler_does_not_reopen_its_file(tmp_path):
    first = configure_logging({"LOG_DIR": str(tmp_path / "one")})
    old = next(h for h in logging.getLogger().handlers if isinstance(h, LogFileHandler))
    logging.getLogger("origin.test").warning("to the first file")
    second = configure_logging({"LOG_DIR": str(tmp_path / "two")})
    assert old.stream is None  # closed by the new configuration
    old.handle(logging.LogRecord("origin.test", logging.WARNING, __file__, 1, "late", None, None))
    assert old.stream is None  # a plain FileHandler would have reopened the first file here
    logging.getLogger("origin.test").warning("to the second file")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "to the first file" in first.read_text() and "late" not in first.read_text()
    assert "to the second file" in second.read_text()
