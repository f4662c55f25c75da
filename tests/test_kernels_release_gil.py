"""Every compiled kernel releases the GIL, so threads that score, chart and write overlap."""

import importlib
import pkgutil

from numba.core.registry import CPUDispatcher

import engine
from engine.runtime.kernels import SizedKernel


def _kernels() -> dict[str, CPUDispatcher]:
    found: dict[str, CPUDispatcher] = {}
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name.endswith("__main__"):  # runs the CLI when imported
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            dispatchers = [obj.parallel, obj.serial] if isinstance(obj, SizedKernel) else [obj]
            for d in dispatchers:
                if isinstance(d, CPUDispatcher) and d.py_func.__module__ == info.name:
                    found[f"{info.name}.{d.py_func.__name__}"] = d
    return found


def test_every_numba_kernel_is_compiled_with_nogil() -> None:
    kernels = _kernels()
    assert len(kernels) > 60  # the walk reaches the loader, baselines, detectors, charts, change points
    holding = sorted(name for name, d in kernels.items() if not d.targetoptions.get("nogil"))
    assert holding == []
