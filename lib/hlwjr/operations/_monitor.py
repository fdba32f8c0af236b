"""The monitor page (运行监控): ``<work_dir>/ops/index.html``, regenerated after each run."""

from __future__ import annotations

__all__ = ["write_monitor"]


def write_monitor(project):
    return None
