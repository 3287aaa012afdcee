"""Compiled kernels that cost nothing until they pay: lazy numba, NumPy fallbacks.

The kernel modules decorate their functions with :func:`njit` from here instead
of ``numba.njit``. Nothing is compiled, and numba is not even imported, until a
kernel is called:

* A kernel with a registered *fallback* (see ``sknonlin._kernel_fallbacks``)
  runs it when the fallback declares the input small and the compiled version
  is not ready yet. A fallback does the same floating-point operations in the
  same order as the kernel, so its results are the kernel's to the bit.
* Once the process has spent more than ``_COMPILE_AFTER_S`` seconds in
  fallbacks, a process that keeps calling the kernels gains from compiling
  them: every later call compiles its kernel (or loads it from numba's cache,
  ``cache=True``) in the calling thread, as ``numba.njit`` would, and runs it.
* Any other call compiles the kernel in the calling thread too.

A call on a small input of a kernel with a fallback thus gets an answer in
milliseconds on a fresh install, and a process that never needs the compiled
kernels never imports numba.

Set the environment variable ``SKNONLIN_BACKGROUND_COMPILE=1`` to compile
instead, past that threshold, every kernel that ran on its fallback in a
background thread (for the argument types it was called with), the fallbacks
serving the calls meanwhile. numba records its warnings with
``warnings.catch_warnings``, which is not thread-safe: while the thread
compiles, a change of the warning filters made by another thread may be
undone, so this is not the default.
"""

import importlib
import os
import sys
import threading
import time

import numpy as np

# Seconds the process may spend in fallbacks before the kernels it ran on
# their fallbacks are compiled.
_COMPILE_AFTER_S = 0.2
# Seconds the background thread waits before it starts: compiling holds the
# interpreter's lock most of the time, which would slow the calls in progress.
_START_DELAY_S = 0.5
_fallback_seconds = [0.0]

_BACKGROUND = os.environ.get("SKNONLIN_BACKGROUND_COMPILE", "0") not in ("", "0")

# Guards the queue of background compilations and the kernels' dispatchers.
_state_lock = threading.Lock()
# Held by the background thread while it imports numba (see _before_fork).
_import_lock = threading.Lock()
_queue = []
_kernels = []
_worker = None
_idle = threading.Event()
_idle.set()

_NO_FALLBACK = object()


_numba = []  # the module, once imported


def _import_numba():
    # Once imported, without the lock: a compilation in progress (holding
    # numba's compiler lock) asks for it, and _before_fork takes both locks.
    if not _numba:
        with _import_lock:
            import numba

            _numba[:] = [numba]
    return _numba[0]


class Kernel:
    """A kernel compiled on first need, with an optional no-compile fallback.

    Calling it runs the compiled kernel when that is ready, else the fallback
    for a small input, else compiles in the calling thread. Inside another
    kernel it is typed as the numba dispatcher it stands for.

    Parameters
    ----------
    py_func : function
        The kernel's Python source.
    options : dict
        Keyword arguments of ``numba.njit``.
    """

    def __init__(self, py_func, options):
        self.py_func = py_func
        self._options = options
        self._dispatcher = None
        # The dispatcher once it is compiled for a call's types.
        self._ready = None
        self._fallback = _NO_FALLBACK
        # Arguments of the types of the first call run on the fallback.
        self._stand_ins = None
        self._scheduled = False
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__
        self.__wrapped__ = py_func
        _kernels.append(self)

    def __repr__(self):
        return f"<sknonlin kernel {self.__module__}.{self.__qualname__}>"

    def __call__(self, *args):
        ready = self._ready
        if ready is not None:
            return ready(*args)
        return self._call_not_ready(args)

    def _call_not_ready(self, args):
        entry = self.fallback_entry
        if (
            entry is not None
            and (_BACKGROUND or _fallback_seconds[0] <= _COMPILE_AFTER_S)
            and entry.small(*args)
        ):
            start = time.perf_counter()
            result = entry.func(*args)
            _fallback_seconds[0] += time.perf_counter() - start
            if self._stand_ins is None:
                self._stand_ins = tuple(map(_stand_in, args))
            if _fallback_seconds[0] > _COMPILE_AFTER_S and not self._scheduled:
                _schedule_fallen_back()
            return result
        dispatcher = self.compiled
        result = dispatcher(*args)
        self._ready = dispatcher
        return result

    @property
    def fallback_entry(self):
        """The registered fallback (``func``, ``small``), or None."""
        if self._fallback is _NO_FALLBACK:
            from sknonlin._kernel_fallbacks import lookup

            self._fallback = lookup(self)
        return self._fallback

    @property
    def fallback(self):
        """The no-compile implementation, or None if the kernel has none."""
        entry = self.fallback_entry
        return None if entry is None else entry.func

    @property
    def compiled(self):
        """The numba dispatcher (created, not compiled, on first access)."""
        dispatcher = self._dispatcher
        if dispatcher is None:
            numba = _import_numba()
            # Created outside the lock: numba may need other kernels' types
            # meanwhile, from another thread.
            made = numba.njit(**self._options)(self.py_func)
            with _state_lock:
                if self._dispatcher is None:
                    self._dispatcher = made
                dispatcher = self._dispatcher
        return dispatcher

    @property
    def is_ready(self):
        """Whether calls go to the compiled kernel."""
        return self._ready is not None

    @property
    def _numba_type_(self):
        # Called by numba when another kernel refers to this one.
        from numba.core import types

        return types.Dispatcher(self.compiled)

    @property
    def targetoptions(self):
        # Read by numba's inliner (``inline="always"``) when another kernel
        # refers to this one.
        return self.compiled.targetoptions

    def _compile_for(self, args):
        """Compile (or load from the cache) for the types of ``args``.

        Returns when the compiled kernel serves every call.
        """
        numba = _import_numba()
        dispatcher = self.compiled
        signature = tuple(numba.typeof(arg) for arg in args)
        dispatcher.compile(signature)
        self._ready = dispatcher


def njit(*args, **options):
    """Drop-in for ``numba.njit`` (``@njit`` or ``@njit(cache=True, ...)``).

    Returns a :class:`Kernel`; numba is imported when it is first compiled.
    """
    if args:
        (py_func,) = args
        return Kernel(py_func, options)
    return lambda py_func: Kernel(py_func, options)


class LazyIntrinsic:
    """A numba ``@intrinsic`` defined in a module that is imported on first use.

    Kernels refer to it as a global; numba asks for its type when it compiles
    them, and only then is ``module`` (which imports numba) imported.
    """

    def __init__(self, module, name):
        self._module = module
        self._name = name

    @property
    def _numba_type_(self):
        real = getattr(importlib.import_module(self._module), self._name)
        from numba.core.registry import cpu_target

        context = cpu_target.typing_context
        context.refresh()
        return context.resolve_value_type(real)

    def __call__(self, *args):
        raise NotImplementedError(f"{self._name} is usable in compiled code only.")


def _stand_in(value):
    """A value numba gives the type of ``value``, holding none of its data."""
    if not isinstance(value, np.ndarray):
        return value
    shape = (2,) * value.ndim
    if value.flags.c_contiguous:
        array = np.empty(shape, dtype=value.dtype)
    elif value.flags.f_contiguous:
        array = np.empty(shape, dtype=value.dtype, order="F")
    else:
        array = np.empty((4,) * value.ndim, dtype=value.dtype)[
            (slice(None, None, 2),) * value.ndim
        ]
    array.setflags(write=value.flags.writeable)
    return array


# -- background compilation --------------------------------------------------


def _schedule_fallen_back():
    """Queue every kernel that ran on its fallback for compilation."""
    global _worker
    with _state_lock:
        for kernel in _kernels:
            if kernel._stand_ins is None or kernel._scheduled:
                continue
            kernel._scheduled = True
            if _BACKGROUND:
                _queue.append((kernel, kernel._stand_ins))
        if not _queue:
            return
        _idle.clear()
        if _worker is None:
            _worker = threading.Thread(
                target=_compile_queued, name="sknonlin-compile", daemon=True
            )
            _worker.start()


def _compile_queued():
    global _worker
    time.sleep(_START_DELAY_S)
    while True:
        with _state_lock:
            if not _queue or sys.is_finalizing():
                _queue.clear()
                _worker = None
                _idle.set()
                return
            kernel, args = _queue.pop(0)
        try:
            kernel._compile_for(args)
        except Exception:
            # The kernel stays on its fallback; a call too large for it
            # compiles in the calling thread and reports the error there.
            pass


def wait_for_background_compilation(timeout=None):
    """Block until the background thread has compiled what it was given.

    Returns whether it is idle.
    """
    return _idle.wait(timeout)


# A process forked while numba is being imported or a kernel compiled would
# inherit a lock held by a thread it does not have: fork only in between.
_held_for_fork = []


def _before_fork():
    _import_lock.acquire()
    compiler_lock = _numba_compiler_lock()
    if compiler_lock is not None:
        compiler_lock.acquire()
        _held_for_fork.append(compiler_lock)
    _state_lock.acquire()


def _after_fork_in_parent():
    _state_lock.release()
    while _held_for_fork:
        _held_for_fork.pop().release()
    _import_lock.release()


def _after_fork_in_child():
    global _worker
    # The background thread is gone; the child schedules its own work.
    for kernel in _kernels:
        if kernel._ready is None:
            kernel._scheduled = False
    _queue.clear()
    _worker = None
    _idle.set()
    _after_fork_in_parent()


def _numba_compiler_lock():
    module = sys.modules.get("numba.core.compiler_lock")
    return None if module is None else module.global_compiler_lock


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
