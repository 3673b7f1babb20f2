from dataclasses import dataclass, field


@dataclass
class Request:
    """One prompt to sample `n` continuations from."""

    index: int
    prompt: str
    label: str = ""
    meta: dict = field(default_factory=dict)


@dataclass
class ScoreRequest:
    """Score `continuations` after `prompt`; the score kept is softmax at `target` (name `key`)."""

    key: str
    prompt: str
    continuations: list[str]
    target: int


@dataclass
class Candidate:
    """A parsed sample: text and label, plus what the pipeline needs to write the record."""

    text: str
    label: str
    meta: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
