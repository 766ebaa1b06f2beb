"""Run listings and self-contained HTML reports with PNG figures."""
from .html import list_runs, write_report

__all__ = ["list_runs", "write_report"]
