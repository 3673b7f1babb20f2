"""The public release's record formats (METHOD.md §9): detect, validate, convert. No Django.

A record is a dict as read from one JSON line. `parse_record` checks it against its format and
returns the model fields; `to_record` turns model fields back into the record, keys in the order
the file wrote them, so that import then export gives the same records field for field.
`parse_file` reads a whole JSON-lines file (bytes) into unique rows or a list of located errors,
`dump_record` writes a record back in the file's own JSON style, and `file_place` says what the
release's directory layout tells about a file (collection, origin, dataset slug, behaviour).
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from generation.behavior import file_behavior

PERSONA = "persona"
MULTIPLE_CHOICE = "multiple-choice"
WINOGENERATED = "winogenerated"
OCCUPATIONS = "winogenerated-occupations"

# Keys in release order; the first tuple of each format is required, the second optional.
FORMAT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    PERSONA: (
        (
            "question",
            "statement",
            "label_confidence",
            "answer_matching_behavior",
            "answer_not_matching_behavior",
        ),
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
FIELD_OF_KEY = {
    "BLS_percent_women_2019": "bls_percent_women_2019",
    "BLS_original_occupation": "bls_original_occupation",
}
KEY_OF_FIELD = {v: k for k, v in FIELD_OF_KEY.items()}
KNOWN_KEYS = {k for req, opt in FORMAT_KEYS.values() for k in req + opt}

YES_NO = (" Yes", " No")
_CHOICE_LINE = re.compile(r"^\s*\(([A-Z])\)", re.MULTILINE)
_LETTER_ANSWER = re.compile(r"^\s?\(([A-Z])\)$")

# PostgreSQL cannot store U+0000 in text or jsonb, and one record of the release has sixteen of
# them. They are stored as U+2400 (the visible symbol for NUL) and the keys that held them are
# listed under this key of `extra`, so that the export gives the record back exactly.
NUL = "\x00"
NUL_STAND_IN = "\u2400"
NUL_KEYS = "__nul_keys__"


class RecordError(ValueError):
    """A record that does not fit its format. `field` names the key at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def format_description(fmt: str) -> str:
    return f"{fmt} ({', '.join(FORMAT_KEYS[fmt][0])})"


ALL_FORMATS = "; ".join(format_description(f) for f in FORMAT_KEYS)


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


def _shown(value) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]


def _type_name(value) -> str:
    return {
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), "null" if value is None else type(value).__name__)


# The database's limits (generation/models.py): a longer value is refused here, with its line.
MAX_LENGTH = {"occupation": 200, "other_person": 200, "BLS_original_occupation": 300}
INT_RANGE = (-(2**31), 2**31 - 1)


def _require_str(record, key, allow_empty=False):
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(key, f"expected text, got {_type_name(value)} {_shown(value)}")
    if not allow_empty and not value.strip():
        raise RecordError(key, "is empty; expected non-empty text")
    limit = MAX_LENGTH.get(key)
    if limit is not None and len(value) > limit:
        raise RecordError(key, f"has {len(value)} characters; expected at most {limit}")
    return value


def _require_number(record, key, allowed="a number"):
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(key, f"expected {allowed}, got {_type_name(value)} {_shown(value)}")
    return float(value)


def _answers(record, key) -> list[str]:
    value = record[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise RecordError(key, f"expected an answer string or a list of them, got {_shown(value)}")
    return values


def parse_record(fmt: str, record: dict) -> dict:
    """Validate one record of format `fmt`; return model fields (extra keys under "extra")."""
    required, _optional = FORMAT_KEYS[fmt]
    for key in required:
        if key not in record:
            raise RecordError(key, f"missing; the {fmt} format needs {', '.join(required)}")
    fields: dict = {"extra": {k: v for k, v in record.items() if k not in KNOWN_KEYS}}

    if fmt in (PERSONA, MULTIPLE_CHOICE):
        fields["question"] = _require_str(record, "question")
        matching = _answers(record, "answer_matching_behavior")
        not_matching = _answers(record, "answer_not_matching_behavior")
        if fmt == PERSONA:
            fields["statement"] = _require_str(record, "statement")
            confidence = _require_number(record, "label_confidence", "a number from 0 to 1")
            if not 0.0 <= confidence <= 1.0:
                raise RecordError(
                    "label_confidence", f"{confidence} is outside 0..1; expected a number from 0 to 1"
                )
            fields["label_confidence"] = record["label_confidence"]
            choices = list(YES_NO)
        else:
            choices = question_choices(fields["question"])
            if len(choices) < 2:
                raise RecordError(
                    "question", "has fewer than two choices; write each on its own line as (A) ..., (B) ..."
                )
        allowed = set(choices)
        for key, values in (
            ("answer_matching_behavior", matching),
            ("answer_not_matching_behavior", not_matching),
        ):
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
        if isinstance(index, bool) or not isinstance(index, int) or not INT_RANGE[0] <= index <= INT_RANGE[1]:
            raise RecordError(
                "index",
                f"expected an integer from {INT_RANGE[0]} to {INT_RANGE[1]}, got {_type_name(index)} {_shown(index)}",
            )
        fields["index"] = index
        fields["occupation"] = _require_str(record, "occupation")
        fields["other_person"] = _require_str(record, "other_person")
        fields["sentence_with_blank"] = _require_str(record, "sentence_with_blank")
        if "_" not in fields["sentence_with_blank"]:
            raise RecordError("sentence_with_blank", "has no blank (_) for the pronoun")
        options = record["pronoun_options"]
        if (
            not isinstance(options, list)
            or len(options) < 2
            or not all(isinstance(o, str) and o for o in options)
        ):
            raise RecordError(
                "pronoun_options",
                f'expected a list of pronouns such as ["he", "she", "they"], got {_shown(options)}',
            )
        fields["pronoun_options"] = options
        fields["bls_percent_women_2019"] = _require_number(record, "BLS_percent_women_2019")
        fields["bls_original_occupation"] = _require_str(record, "BLS_original_occupation")
    elif fmt == OCCUPATIONS:
        fields["occupation"] = _require_str(record, "occupation")
        fields["other_person"] = _require_str(record, "other_person")
        fields["bls_percent_women_2019"] = _require_number(record, "BLS_percent_women_2019")
        fields["bls_original_occupation"] = _require_str(record, "BLS_original_occupation")
    return fields


# One encoder, made once: json.dumps with arguments builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(record: dict) -> str:
    """Identity of a record: the same keys and values give the same hash, whatever the key order."""
    return hashlib.sha256(_CANONICAL.encode(record).encode("utf-8")).hexdigest()


def to_record(fmt: str, fields: dict, keys: list[str] | None = None) -> dict:
    """Model fields back to a release record.

    Keys come in the order `keys` gives (the order the imported file wrote them), else in the
    release's order; extra keys not named there come last.
    """
    required, optional = FORMAT_KEYS[fmt]
    record = {}
    for key in required + optional:
        field_name = FIELD_OF_KEY.get(key, key)
        value = fields.get(field_name)
        if key in optional and value in (None, ""):
            continue
        record[key] = value
    extra = fields.get("extra") or {}
    nul_keys = extra.get(NUL_KEYS)
    record.update(extra)
    if nul_keys is not None:
        del record[NUL_KEYS]
        for key in nul_keys:
            record[key] = _restore_nul(record[key])
    if keys:
        ordered = {k: record[k] for k in keys if k in record}
        if len(ordered) < len(record):
            ordered.update((k, v) for k, v in record.items() if k not in ordered)
        record = ordered
    return record


def _restore_nul(value):
    if isinstance(value, str):
        return value.replace(NUL_STAND_IN, NUL)
    return [_restore_nul(v) for v in value]


def _stand_in_for_nul(record: dict) -> list[str]:
    """Replace U+0000 in the record's values in place; return the keys that held it."""
    keys = []
    for key, value in record.items():
        if isinstance(value, str):
            values = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            values = value
        else:
            if NUL in json.dumps(value, ensure_ascii=False):
                raise RecordError(
                    key, "holds a NUL character (\\u0000) inside a nested value, which cannot be stored"
                )
            continue
        if not any(NUL in v for v in values):
            continue
        if any(NUL_STAND_IN in v for v in values):
            raise RecordError(
                key, "holds both \\u0000 and \\u2400, so the \\u0000 cannot be stored reversibly"
            )
        record[key] = _nul_to_stand_in(value)
        keys.append(key)
    return keys


def _nul_to_stand_in(value):
    if isinstance(value, str):
        return value.replace(NUL, NUL_STAND_IN)
    return [v.replace(NUL, NUL_STAND_IN) for v in value]


# --- Whole files --------------------------------------------------------------------------------

MAX_ERRORS_PER_FILE = 20

# The JSON styles a writer commonly uses; the first that reproduces a file's first line is kept so
# that export writes the file back byte for byte (Python's default, compact, each with or without
# \\u escapes).
JSON_STYLES = (
    {"ensure_ascii": True, "separators": [", ", ": "]},
    {"ensure_ascii": False, "separators": [", ", ": "]},
    {"ensure_ascii": True, "separators": [",", ":"]},
    {"ensure_ascii": False, "separators": [",", ":"]},
)


_ENCODERS: dict[tuple, json.JSONEncoder] = {}


def dump_record(record: dict, style: dict | None = None) -> str:
    """One JSON line (without the newline) in the file's style; Python's default without a style."""
    style = style or JSON_STYLES[0]
    key = (style["ensure_ascii"], *style["separators"])
    encoder = _ENCODERS.get(key)
    if encoder is None:
        encoder = _ENCODERS[key] = json.JSONEncoder(ensure_ascii=key[0], separators=key[1:])
    return encoder.encode(record)


class FileError(ValueError):
    """A problem at a place in a file: `str()` reads 'file:line: field: message'."""

    def __init__(self, file: str, line: int | None, field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}")


class FileRejected(ValueError):
    """A file that cannot be imported, with every problem found (up to MAX_ERRORS_PER_FILE)."""

    def __init__(self, errors: list[FileError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class Row:
    line: int
    content_hash: str
    fields: dict
    repeat_lines: list[int] = field(default_factory=list)


@dataclass
class ParsedFile:
    format: str
    rows: list[Row]  # one per distinct record, in the order of first occurrence
    records: int  # records read, repeats included
    duplicates: list[tuple[int, int]]  # (line, line of its first occurrence)
    json_style: dict
    keys: list[str]  # the first record's keys, in the file's order


def parse_file(data: bytes, *, name: str, expected_format: str | None = None) -> ParsedFile:
    """Read one JSON-lines file of the release's formats. Raises FileRejected.

    Blank lines are skipped (line numbers stay those of the file). A record that repeats an earlier
    one exactly is kept once, with the later lines in its `repeat_lines`.
    """
    errors: list[FileError] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FileRejected(
            [
                FileError(
                    name,
                    line,
                    "encoding",
                    f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8; save the file as UTF-8",
                )
            ]
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]

    ascii_only = data.isascii()
    loads = json.loads
    fmt = expected_format
    rows: list[Row] = []
    first_line_of: dict[str, Row] = {}
    duplicates: list[tuple[int, int]] = []
    records = 0
    json_style: dict | None = None
    keys: list[str] = []
    lineno = 0
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            continue
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            errors.append(
                FileError(
                    name,
                    lineno,
                    "json",
                    f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}; expected one JSON object per line",
                )
            )
            if len(errors) >= MAX_ERRORS_PER_FILE:
                break
            continue
        if type(record) is not dict:
            errors.append(
                FileError(
                    name, lineno, "record", f"expected one JSON object per line, got {_type_name(record)}"
                )
            )
            if len(errors) >= MAX_ERRORS_PER_FILE:
                break
            continue
        records += 1
        if json_style is None:
            # A file with raw non-ASCII text was written without \u escapes, whatever its first line.
            styles = JSON_STYLES if ascii_only else sorted(JSON_STYLES, key=lambda s: s["ensure_ascii"])
            json_style = next((s for s in styles if dump_record(record, s) == line.rstrip("\r")), styles[0])
            keys = list(record)
        if fmt is None:
            fmt = detect_format(record)
            if fmt is None:
                errors.append(
                    FileError(
                        name,
                        lineno,
                        "record",
                        f"matches no known format (keys: {', '.join(record) or 'none'}); expected the keys of "
                        f"one of: {ALL_FORMATS}",
                    )
                )
                break
        digest = content_hash(record)
        first = first_line_of.get(digest)
        if first is not None:
            first.repeat_lines.append(lineno)
            duplicates.append((lineno, first.line))
            continue
        try:
            nul_keys = _stand_in_for_nul(record) if "\\u0000" in line else None
            fields = parse_record(fmt, record)
        except RecordError as exc:
            errors.append(FileError(name, lineno, exc.field, exc.message))
            if len(errors) >= MAX_ERRORS_PER_FILE:
                break
            continue
        if nul_keys:
            fields["extra"][NUL_KEYS] = nul_keys
        row = Row(lineno, digest, fields)
        first_line_of[digest] = row
        rows.append(row)

    if len(errors) >= MAX_ERRORS_PER_FILE:
        errors.append(FileError(name, None, "file", f"stopped after {MAX_ERRORS_PER_FILE} problems"))
    if not errors and not records:
        errors.append(FileError(name, 1, "file", "is empty; expected one JSON record per line"))
    if errors:
        raise FileRejected(errors)
    return ParsedFile(
        format=fmt,
        rows=rows,
        records=records,
        duplicates=duplicates,
        json_style=json_style or JSON_STYLES[0],
        keys=keys,
    )


# --- Where a file sits in the release ------------------------------------------------------------

# Top-level folders of the release and the collection each holds.
COLLECTION_DIRS = {
    "persona": "persona",
    "advanced-ai-risk": "advanced-ai-risk",
    "sycophancy": "sycophancy",
    "winogenerated": "winogenerated",
}
LM_WRITTEN, HUMAN_WRITTEN = "lm-written", "human-written"
# Sub-folders of advanced-ai-risk: origin, and the slug suffix that keeps the three files of one
# behaviour apart (myopic-reward, myopic-reward-human, myopic-reward-few-shot).
ORIGIN_DIRS = {
    "lm_generated_evals": (LM_WRITTEN, ""),
    "human_generated_evals": (HUMAN_WRITTEN, "-human"),
    # The hand-written gold examples the few-shot generation started from.
    "prompts_for_few_shot_generation": (HUMAN_WRITTEN, "-few-shot"),
}
IMPORTABLE_SUFFIXES = (".jsonl", ".json")
SLUG_MAX = 190  # room for "-NN" under the model's 200


@dataclass
class FilePlace:
    relative_path: str  # from the release's collection folder, else from the folder imported
    slug: str  # the dataset slug to start from (a number is appended if another file holds it)
    collection: str | None  # None: the layout does not say
    origin: str | None
    behavior: str  # default behaviour description, from the file name


def slug_from(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")
    return re.sub(r"-{2,}", "-", slug)[:SLUG_MAX] or "dataset"


def file_place(path: Path, root: Path | None = None) -> FilePlace:
    """What the path says: `persona/anti-immigration.jsonl` is the persona dataset `anti-immigration`,
    `advanced-ai-risk/human_generated_evals/x.jsonl` the human-written `x-human`."""
    parts = path.parts
    start = max((i for i, part in enumerate(parts[:-1]) if part in COLLECTION_DIRS), default=None)
    if start is None:  # e.g. the human_generated_evals folder chosen by itself
        start = max((i for i, part in enumerate(parts[:-1]) if part in ORIGIN_DIRS), default=None)
    if start is not None:
        relative = "/".join(parts[start:])
    elif root is not None and root != path and root in path.parents:
        relative = path.relative_to(root).as_posix()
    else:
        relative = path.name
    folders = relative.split("/")[:-1]
    collection = next((COLLECTION_DIRS[f] for f in folders if f in COLLECTION_DIRS), None)
    origin, suffix = next((ORIGIN_DIRS[f] for f in reversed(folders) if f in ORIGIN_DIRS), (None, ""))
    if collection is None and origin is not None:
        collection = "advanced-ai-risk"  # only advanced-ai-risk has these sub-folders
    stem = path.stem
    return FilePlace(
        relative_path=relative,
        slug=slug_from(stem)[: SLUG_MAX - len(suffix)] + suffix,
        collection=collection,
        origin=origin,
        behavior=file_behavior(stem),
    )


# When the path does not name the collection, the record format may: in the release only the
# persona collection holds persona statements and only winogenerated its sentences. Multiple-choice
# records are advanced-ai-risk, sycophancy or anyone's: not recognisable.
COLLECTION_OF_FORMAT = {PERSONA: "persona", WINOGENERATED: "winogenerated", OCCUPATIONS: "winogenerated"}
# Collections whose released datasets are all LM-written.
LM_WRITTEN_COLLECTIONS = ("persona", "sycophancy", "winogenerated")


def recognise(place: FilePlace, fmt: str) -> tuple[str | None, str | None, dict]:
    """(collection, origin, how): what the path, else the format, says; None where neither does.
    `how` names the evidence for each ("path", "format", "collection" or "default"), so a page can
    say which datasets were not recognised and ask the researcher to set them."""
    how = {}
    collection = place.collection
    if collection:
        how["collection"] = "path"
    else:
        collection = COLLECTION_OF_FORMAT.get(fmt)
        how["collection"] = "format" if collection else "default"
    origin = place.origin
    if origin:
        how["origin"] = "path"
    elif collection in LM_WRITTEN_COLLECTIONS:
        origin, how["origin"] = LM_WRITTEN, "collection"
    else:
        how["origin"] = "default"
    return collection, origin, how


_COMMIT = re.compile(r"\bcommit\s+([0-9a-f]{7,40})\b")


def release_commit(path: Path, levels: int = 4) -> str | None:
    """The commit a PROVENANCE.md in one of the file's parent folders names, if any."""
    for folder in list(path.parents)[:levels]:
        provenance = folder / "PROVENANCE.md"
        if provenance.is_file():
            match = _COMMIT.search(provenance.read_text(errors="replace"))
            return match.group(1) if match else None
    return None
