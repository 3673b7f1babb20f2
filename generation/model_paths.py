"""Which local models may be loaded: only folders inside the configured MODEL_DIRS.

A run or an endpoint names a model by a path; without this, any researcher could make the GPU
worker open any server path, and the answer told them which paths exist. A path must resolve
(after symlinks) inside one of the folders; a relative name is looked up in each folder in turn.
Every refusal has the same words, whether or not the path exists.
"""

from pathlib import Path

from django.conf import settings


def model_dirs() -> list[Path]:
    return [Path(d) for d in settings.MODEL_DIRS]


def local_model_path(spec: str) -> Path | None:
    """The model folder that `spec` names inside MODEL_DIRS, resolved; None if it names none."""
    if not spec or "\x00" in spec:
        return None
    for base in model_dirs():
        try:
            root = base.resolve()
            candidate = (root / spec).resolve()  # an absolute spec replaces root
            if candidate != root and candidate.is_relative_to(root) and candidate.is_dir():
                return candidate
        except (OSError, ValueError, RuntimeError):  # a name too long, a symlink loop
            continue
    return None


def model_refusal(spec: str, field: str, *, endpoints: bool = True) -> str:
    """The one message for a model that is not allowed (or not there): it names the field and the
    allowed folders, never whether the path exists."""
    shown = spec if len(spec) <= 80 else spec[:77] + "..."
    allowed = ", ".join(str(d) for d in model_dirs()) or "none configured"
    what = "is neither one of your model endpoints nor a model" if endpoints else "is not a model"
    return f"{field}: {shown!r} {what} inside the model folders (MODEL_DIRS: {allowed})"
