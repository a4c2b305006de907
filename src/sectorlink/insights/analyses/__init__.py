"""The built-in analyses. Every module in this package is imported here, and each
registers itself with `sectorlink.insights.registry.register`: adding an analysis is
adding a module, nothing else lists them."""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
