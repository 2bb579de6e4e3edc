"""custsync: audit and repair asynchronous customer synchronization."""

__version__ = "0.1.0"
