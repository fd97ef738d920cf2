"""`api_client.models` is a package of one module per part of the contract; `from api_client.models import X` stays
the way in for every public name, and every class says it lives there."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

from api_client import models


def _parts() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(models.__path__)]


def test_every_public_name_of_every_part_is_exported_from_the_package() -> None:
    assert {"orders", "menu", "intake", "writes", "intents", "auth", "realtime"} <= set(_parts())
    for part in _parts():
        module = importlib.import_module(f"{models.__name__}.{part}")
        own = set()  # what the part defines itself (its imports are other parts' names, or not the contract's)
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Assign):
                own.update(target.id for target in node.targets if isinstance(target, ast.Name))
        own = {name for name in own if not name.startswith("_")}
        assert own, part
        missing = own - set(models.__all__)
        assert not missing, f"api_client.models does not re-export {sorted(missing)} from {part}"
        assert all(getattr(models, name) is getattr(module, name) for name in own)


def test_every_exported_class_lives_in_the_package() -> None:
    classes = [value for name in models.__all__ if inspect.isclass(value := getattr(models, name))]
    assert len(classes) > 30
    assert {cls.__module__ for cls in classes} == {models.__name__}
