"""Errors a user can cause, in words a marketer understands.

Every error says what was found, what was expected and what to do. The app shows
``str(error)`` as-is, so messages are plain sentences without tracebacks or jargon.
"""
from __future__ import annotations


class SegmenterError(Exception):
    """Base class of every error this library raises on purpose."""


class DataError(SegmenterError, ValueError):
    """The table cannot be segmented as given (bad file, bad column, too small...)."""


class EmptyFileError(DataError):
    """The file holds no rows (empty, or a header only)."""


class FileFormatError(DataError):
    """The file is not a readable CSV/Parquet/Excel table, or not what its name says."""


class EncodingError(DataError):
    """The text encoding of the file could not be read."""


class TooLargeError(DataError):
    """The file or table is over the configured size limit."""


class TooFewRowsError(DataError):
    """Fewer rows than can be segmented."""


class NoFeaturesError(DataError):
    """No usable feature column is left after validation."""


class DuplicateColumnsError(DataError):
    """Two or more columns share a name."""


class ColumnError(DataError):
    """A column named by the user does not exist or cannot take the requested type."""


class ParameterError(SegmenterError, ValueError):
    """A parameter (k, algorithm, ...) is out of range."""


class NotFittedError(SegmenterError, AttributeError):
    """A model was used before ``fit`` was called."""


class ModelFileError(SegmenterError, ValueError):
    """A saved model file is missing, damaged or not one of ours."""


class MissingDependencyError(SegmenterError, ImportError):
    """An optional package that a chosen feature needs is not installed (the message says how)."""
