"""The public release's record formats (METHOD.md §9): detect, validate, convert. No Django.

A record is a dict as read from one JSON line. `parse_record` checks it against its format and
returns the model fields; `to_record` turns model fields back into the record, keys in the order
the release writes them, so that import then export gives the same records field for field.
"""

import hashlib
import json
import re

PERSONA = "persona"
MULTIPLE_CHOICE = "multiple-choice"
WINOGENERATED = "winogenerated"
OCCUPATIONS = "winogenerated-occupations"

# Keys in release order; the first tuple of each format is required, the second optional.
FORMAT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    PERSONA: (
        ("question", "statement", "label_confidence", "answer_matching_behavior", "answer_not_matching_behavior"),
        (),
    ),
    MULTIPLE_CHOICE: (("question", "answer_matching_behavior", "answer_not_matching_behavior"), ()),
    WINOGENERATED: (
        (
            "index",
            "occupation",
            "other_person",
            "pronoun_options",
            "sentence_with_blank",
            "BLS_percent_women_2019",
            "BLS_original_occupation",
        ),
        (),
    ),
    OCCUPATIONS: (("BLS_original_occupation", "occupation", "other_person", "BLS_percent_women_2019"), ()),
}

# Record key -> model field, where they differ.
FIELD_OF_KEY = {"BLS_percent_women_2019": "bls_percent_women_2019", "BLS_original_occupation": "bls_original_occupation"}
KEY_OF_FIELD = {v: k for k, v in FIELD_OF_KEY.items()}
KNOWN_KEYS = {k for req, opt in FORMAT_KEYS.values() for k in req + opt}

YES_NO = (" Yes", " No")
_CHOICE_LINE = re.compile(r"^\s*\(([A-Z])\)", re.MULTILINE)
_LETTER_ANSWER = re.compile(r"^\s?\(([A-Z])\)$")


class RecordError(ValueError):
    """A record that does not fit its format. `field` names the key at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def detect_format(record: dict) -> str | None:
    """The format whose required keys the record has; the most specific one wins."""
    keys = set(record)
    if {"sentence_with_blank", "pronoun_options"} & keys:
        return WINOGENERATED
    if "statement" in keys or "label_confidence" in keys:
        return PERSONA
    if "question" in keys or "answer_matching_behavior" in keys:
        return MULTIPLE_CHOICE
    if {"BLS_original_occupation", "occupation"} <= keys:
        return OCCUPATIONS
    return None


def question_choices(question: str) -> list[str]:
    """The answer strings a multiple-choice question offers, as the release writes them: " (A)"."""
    letters = []
    for letter in _CHOICE_LINE.findall(question):
        if letter not in letters:
            letters.append(letter)
    return [f" ({letter})" for letter in letters]


def record_choices(fmt: str, fields: dict) -> list[str]:
    """The answers a worker chooses from for an example (model fields, not record keys)."""
    if fmt == PERSONA:
        return list(YES_NO)
    if fmt == MULTIPLE_CHOICE:
        return question_choices(fields.get("question") or "")
    if fmt == WINOGENERATED:
        return list(fields.get("pronoun_options") or [])
    return []


def _require_str(record, key, allow_empty=False):
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(key, f"expected text, got {type(value).__name__} {json.dumps(value)[:40]}")
    if not allow_empty and not value.strip():
        raise RecordError(key, "is empty")
    return value


def _require_number(record, key):
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(key, f"expected a number, got {type(value).__name__} {json.dumps(value)[:40]}")
    return float(value)


def _answers(record, key) -> list[str]:
    value = record[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise RecordError(key, f"expected an answer string or a list of them, got {json.dumps(value)[:60]}")
    return values


def parse_record(fmt: str, record: dict) -> dict:
    """Validate one record of format `fmt`; return model fields (extra keys under "extra")."""
    required, _optional = FORMAT_KEYS[fmt]
    for key in required:
        if key not in record:
            raise RecordError(key, f"missing (required in the {fmt} format)")
    fields: dict = {"extra": {k: v for k, v in record.items() if k not in KNOWN_KEYS}}

    if fmt in (PERSONA, MULTIPLE_CHOICE):
        fields["question"] = _require_str(record, "question")
        matching = _answers(record, "answer_matching_behavior")
        not_matching = _answers(record, "answer_not_matching_behavior")
        if fmt == PERSONA:
            fields["statement"] = _require_str(record, "statement")
            confidence = _require_number(record, "label_confidence")
            if not 0.0 <= confidence <= 1.0:
                raise RecordError("label_confidence", f"{confidence} is outside 0..1")
            fields["label_confidence"] = record["label_confidence"]
            choices = list(YES_NO)
        else:
            choices = question_choices(fields["question"])
            if len(choices) < 2:
                raise RecordError("question", "has fewer than two choices written as (A), (B), ...")
        allowed = set(choices)
        for key, values in (("answer_matching_behavior", matching), ("answer_not_matching_behavior", not_matching)):
            for value in values:
                if value not in allowed:
                    raise RecordError(
                        key, f"{value!r} is not among the choices {', '.join(repr(c) for c in choices)}"
                    )
        if set(matching) & set(not_matching):
            raise RecordError("answer_not_matching_behavior", "repeats an answer that matches the behaviour")
        fields["answer_matching_behavior"] = record["answer_matching_behavior"]
        fields["answer_not_matching_behavior"] = record["answer_not_matching_behavior"]
        # Optional persona/mc keys that are not in the format travel in extra.
    elif fmt == WINOGENERATED:
        index = record["index"]
        if isinstance(index, bool) or not isinstance(index, int):
            raise RecordError("index", f"expected an integer, got {json.dumps(index)[:40]}")
        fields["index"] = index
        fields["occupation"] = _require_str(record, "occupation")
        fields["other_person"] = _require_str(record, "other_person")
        fields["sentence_with_blank"] = _require_str(record, "sentence_with_blank")
        if "_" not in fields["sentence_with_blank"]:
            raise RecordError("sentence_with_blank", "has no blank (_) for the pronoun")
        options = record["pronoun_options"]
        if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) and o for o in options):
            raise RecordError("pronoun_options", f"expected a list of pronouns, got {json.dumps(options)[:60]}")
        fields["pronoun_options"] = options
        fields["bls_percent_women_2019"] = _require_number(record, "BLS_percent_women_2019")
        fields["bls_original_occupation"] = _require_str(record, "BLS_original_occupation")
    elif fmt == OCCUPATIONS:
        fields["occupation"] = _require_str(record, "occupation")
        fields["other_person"] = _require_str(record, "other_person")
        fields["bls_percent_women_2019"] = _require_number(record, "BLS_percent_women_2019")
        fields["bls_original_occupation"] = _require_str(record, "BLS_original_occupation")
    return fields


def content_hash(record: dict) -> str:
    """Identity of a record: the same keys and values give the same hash, whatever the key order."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def to_record(fmt: str, fields: dict) -> dict:
    """Model fields back to a release record, keys in the release's order, extra keys last."""
    required, optional = FORMAT_KEYS[fmt]
    record = {}
    for key in required + optional:
        field = FIELD_OF_KEY.get(key, key)
        value = fields.get(field)
        if key in optional and value in (None, ""):
            continue
        record[key] = value
    record.update(fields.get("extra") or {})
    return record
