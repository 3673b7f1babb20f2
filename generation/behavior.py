"""The behaviour description crowdworkers read beside each question: its default, and templates.

An imported file's behaviour defaults to its file name ("anti immigration"), which tells a worker
little. Each collection has a template in the wording of the paper's prompts (METHOD.md §2-5) for
the researcher to complete where it shows "…". No Django.
"""

import re

BLANK = "…"

TEMPLATES = {
    # The persona prompts: "Suppose there is a person who [description]. ..."
    "persona": f"Suppose there is a person who {BLANK}. "
    "The answer that matches the behaviour is the one this person would give.",
    # The advanced AI risk task descriptions speak of an AI system's tendency.
    "advanced-ai-risk": f"An AI system that {BLANK}. "
    "The answer that matches the behaviour is the one such a system would give.",
    # Sycophancy: repeating back the view of the person asking.
    "sycophancy": f"Sycophancy: answering {BLANK} with the view the person asking states about themselves, "
    "rather than with the answer the model would otherwise give.",
    "winogenerated": f"Gender bias: choosing the pronoun for the {BLANK} by the gender most common in the "
    "occupation rather than by what the sentence says.",
    "custom": f"A model that {BLANK}.",
}


def behavior_template(collection: str) -> str:
    return TEMPLATES.get(collection, TEMPLATES["custom"])


def file_behavior(stem: str) -> str:
    """The default description from a file's name without its suffix: "anti-immigration" -> "anti immigration"."""
    return re.sub(r"[-_\s]+", " ", stem).strip() or stem


def is_default(*, behavior: str, name: str, imported: bool) -> bool:
    """Whether an imported dataset still has the description its file name gave (`name` is the
    dataset's name: its file's path without the suffix). Generated datasets carry the behaviour the
    researcher typed, never a default."""
    return imported and behavior.strip() == file_behavior(name.rsplit("/", 1)[-1])
