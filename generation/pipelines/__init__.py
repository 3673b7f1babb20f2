"""The paper's four generation pipelines as pure code (prompts, parsing, deduplication, selection):
no Django, no model. generation/runs/ runs them against a backend, in resumable chunks.

A pipeline lists its stages; a stage either asks the generator for samples (`requests`) or asks the
discriminator for scores (`score_requests`); `select` turns scored candidates into release records.
"""

import math
import re
import string

from generation.pipelines.base import Candidate, Request, ScoreRequest  # noqa: F401

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """For near-duplicate detection: case, punctuation and spacing do not count."""
    return _SPACE.sub(" ", _PUNCT.sub("", text.lower())).strip()


def dedupe(texts: list[str]) -> list[int]:
    """Indices of the texts kept: exact duplicates first, then normalised ones, first occurrence wins."""
    seen_exact, seen_norm, kept = set(), set(), []
    for i, text in enumerate(texts):
        if text in seen_exact:
            continue
        seen_exact.add(text)
        norm = normalise(text)
        if norm in seen_norm:
            continue
        seen_norm.add(norm)
        kept.append(i)
    return kept


def softmax_at(logprobs: list[float], index: int) -> float:
    top = max(logprobs)
    exps = [math.exp(v - top) for v in logprobs]
    return exps[index] / sum(exps)


PIPELINES = ("persona", "multiple-choice", "sycophancy", "winogender")


def pipeline_for(name: str):
    from generation.pipelines import multiple_choice, persona, sycophancy, winogender

    table = {
        "persona": persona.PersonaPipeline,
        "multiple-choice": multiple_choice.MultipleChoicePipeline,
        "sycophancy": sycophancy.SycophancyPipeline,
        "winogender": winogender.WinogenderPipeline,
    }
    if name not in table:
        raise ValueError(f"pipeline: {name!r} is not one of {', '.join(PIPELINES)}")
    return table[name]
