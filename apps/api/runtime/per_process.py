"""A resource an app owns once per process: opened on first use (after gunicorn forks), closed on demand."""
import os
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Resource = TypeVar("Resource")


def _close_resource(resource: Any) -> None:
    resource.close()


class PerProcess(Generic[Resource]):
    """Hold one resource for this process: `open_resource()` makes it, `close(resource)` ends it (default:
    its `close()`).

    A copy inherited through fork belongs to the parent: the child opens its own on first use and
    never closes the parent's (the pool's fork hook has already let go of its sockets).
    """

    def __init__(self, open_resource: Callable[[], Resource],
                 close: Callable[[Resource], object] = _close_resource) -> None:
        self._open, self._close = open_resource, close
        self._resource: Resource | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> Resource:
        """Return this process's resource, opening it on first use."""
        resource = self._resource
        if resource is not None and self._pid == os.getpid():
            return resource
        with self._lock:
            if self._resource is None or self._pid != os.getpid():
                self._resource, self._pid = self._open(), os.getpid()
            return self._resource

    def peek(self) -> Resource | None:
        """Return this process's resource, or None when it has not opened one."""
        resource = self._resource
        return resource if resource is not None and self._pid == os.getpid() else None

    def close(self) -> None:
        """Close this process's resource, if open (a later `get` opens a new one)."""
        with self._lock:
            resource = self.peek()
            self._resource = self._pid = None
        if resource is not None:
            self._close(resource)
