"""micromind 0.2.1's ``networks/phinet.py``, loaded by file as the reference PhiNet.

``import micromind`` runs the package's ``__init__``, which needs torchvision (it does not
import beside torch 2.13 here), so the file is loaded on its own; it needs only torch and
torchinfo. Tests call :func:`load_phinet_module` and skip with the reason it gives when
micromind (installed with ``pip install --no-deps micromind==0.2.1``) is missing.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

MODULE_NAME = "micromind_reference_phinet"


def phinet_path() -> Path | None:
    """Where the installed micromind keeps ``networks/phinet.py``, without importing it."""
    spec = importlib.util.find_spec("micromind")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "networks" / "phinet.py"
        if path.is_file():
            return path
    return None


@functools.cache
def load_phinet_module() -> ModuleType:
    """micromind's phinet.py as a module; skips the calling test if it cannot be loaded."""
    path = phinet_path()
    if path is None:
        pytest.skip(
            "micromind is not installed: `pip install --no-deps micromind==0.2.1` "
            "to compare against the reference PhiNet"
        )
    pytest.importorskip("torch", reason="the reference PhiNet needs torch")
    pytest.importorskip("torchinfo", reason="micromind's phinet.py imports torchinfo")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def reference_phinet(config, compatibility: bool = False):
    """micromind's PhiNet for an :class:`advisor.config.PhiNetConfig` (random init)."""
    module = load_phinet_module()
    return module.PhiNet(
        input_shape=(config.in_channels, config.resolution, config.resolution),
        num_layers=config.num_layers,
        alpha=config.alpha,
        beta=config.beta,
        t_zero=config.t0,
        include_top=config.include_top,
        num_classes=config.num_classes,
        compatibility=compatibility,
        downsampling_layers=list(config.downsampling_layers),
        residuals=config.residuals,
        h_swish=config.h_swish,
        squeeze_excite=config.squeeze_excite,
        divisor=config.divisor,
    )
