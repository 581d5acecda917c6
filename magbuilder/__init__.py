"""magbuilder: a PDF e-magazine and an HTML email newsletter from review files and a manifest."""

__version__ = "0.1.0"  # pyproject.toml reads it from here

__all__ = ["__version__", "build_issue", "load_issue"]


def __getattr__(name: str):  # noqa: ANN202 - lazy, so `magbuilder --help` imports nothing heavy
    if name == "build_issue":
        from .build import build_issue

        return build_issue
    if name == "load_issue":
        from .manifest import load_issue

        return load_issue
    raise AttributeError(name)
