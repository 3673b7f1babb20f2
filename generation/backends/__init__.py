"""Language-model backends behind one small interface (Backend below). torch and transformers
are imported only when a local model is loaded, never when Django starts."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# As the import keeps them (generation/release.py): U+0000, which PostgreSQL cannot store in text
# or jsonb, becomes the visible U+2400; a lone surrogate, which UTF-8 cannot encode, becomes U+FFFD.
NUL_STAND_IN = "\u2400"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> tuple[str, int]:
    """Model text as the database can store it, and how many characters were replaced."""
    count = 0

    def swap(match) -> str:
        nonlocal count
        count += 1
        return NUL_STAND_IN if match.group() == "\x00" else "\ufffd"

    return _UNSTORABLE.sub(swap, text), count


class BackendError(Exception):
    """A model that cannot be loaded or reached, or a bad sampling parameter. Message names which."""


class TransientBackendError(BackendError):
    """Worth retrying: a timeout, a refused connection, a 429 or a 5xx."""


@dataclass(frozen=True)
class Sampling:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 48
    stop: tuple[str, ...] = ()
    seed: int = 0

    def check(self) -> None:
        if self.n < 1:
            raise BackendError(f"n: {self.n} must be at least 1")
        if self.temperature < 0:
            raise BackendError(f"temperature: {self.temperature} must be 0 or more")
        if not 0 < self.top_p <= 1:
            raise BackendError(f"top_p: {self.top_p} must be in (0, 1]")
        if self.max_new_tokens < 1:
            raise BackendError(f"max_new_tokens: {self.max_new_tokens} must be at least 1")


def cut_at_stop(text: str, stop) -> tuple[str, bool]:
    """Text up to the first stop string, and whether one was found (else the sample was truncated)."""
    cut = len(text)
    for s in stop or ():
        at = text.find(s)
        if at != -1:
            cut = min(cut, at)
    return text[:cut], cut < len(text)


@runtime_checkable
class Backend(Protocol):
    """What generation runs and model evaluations ask of a model, local or behind an API."""

    name: str

    def describe(self) -> dict:
        """Kind, model and where it runs, for a dataset's provenance."""
        ...

    def generate(
        self, prompts: Sequence[str], *, n: int = 1, temperature: float = 1.0, top_p: float = 1.0,
        max_new_tokens: int = 48, stop: Sequence[str] = (), seed: int = 0,
    ) -> list[list[str]]:  # fmt: skip
        """n samples per prompt."""
        ...

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Sum of log p(continuation | prompt) per pair, batched; BackendError naming a
        continuation the model's tokenizer cannot encode."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]: ...

    def reward(self, texts: Sequence[str]) -> list[float]:
        """A classifier (reward) model's scalar per text."""
        ...


def backend_load(
    *, kind: str, model: str, base_url: str = "", api_key: str = "", device: str | None = None
) -> Backend:
    if kind == "transformers":
        from generation.backends.local import TransformersBackend

        return TransformersBackend(model, device=device)
    if kind == "openai":
        from generation.backends.http import OpenAICompatibleBackend

        return OpenAICompatibleBackend(base_url=base_url, model=model, api_key=api_key)
    raise BackendError(f"kind: {kind!r} is not one of transformers, openai")
