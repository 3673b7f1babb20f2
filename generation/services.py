"""Writes for datasets: import files of the release's formats, edit a dataset, run upload jobs.

Parsing and validation are pure (generation/release.py); this module decides which dataset a file
becomes and writes its rows: PostgreSQL COPY on PostgreSQL, bulk_create elsewhere. Each file is
one transaction, so a file with one bad line writes nothing.
"""

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from generation import release, sources
from generation.models import RECORD_FIELDS, Collection, Dataset, Example, ImportJob, Origin
from qa.errors import ApplicationError
from qa.rawsql import advisory_xact_lock
from qa.work import jobs_heal, send_on_commit

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    files: int = 0  # files read (rejected ones included)
    datasets: int = 0  # datasets that hold an imported file (created or found)
    datasets_created: int = 0
    rows_added: int = 0
    rows_present: int = 0  # distinct records already in their dataset
    duplicates_in_file: int = 0  # records repeating an earlier line of the same file (stored once)
    files_rejected: int = 0  # files (or paths) that imported nothing
    errors: list[str] = field(default_factory=list)  # 'file:line: field: message'
    notes: list[str] = field(default_factory=list)  # not errors: e.g. which files had repeated records
    dataset_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ImportSource:
    path: Path  # where the bytes are
    source_file: str  # identity: importing the same source again finds the same dataset
    display: str  # how messages name the file
    place: release.FilePlace
    provenance: dict = field(default_factory=dict)  # where the whole source came from (repository, commit)


def source_cache() -> Path:
    """Clones and unpacked archives live here, so that importing again fetches only what changed."""
    return Path(settings.VAR_DIR) / "sources"


def _sources_from_paths(
    paths: Iterable[str | Path], summary: ImportSummary, say: sources.Say | None = None
) -> list[ImportSource]:
    found_sources = []
    for raw in paths:
        try:
            resolved_source = sources.source_resolve(str(raw), cache=source_cache(), say=say)
        except sources.SourceError as exc:
            summary.errors.append(str(exc))
            summary.files_rejected += 1
            continue
        path, identity = resolved_source.folder, resolved_source.identity
        if not path.exists():
            summary.errors.append(
                f"{raw}: path: does not exist; expected a .jsonl file, a folder holding some, a git "
                "repository (URL or local path) or a .zip/.tar.gz archive of the release"
            )
            summary.files_rejected += 1
            continue
        if path.is_dir():
            root = path.resolve()
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in release.IMPORTABLE_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                summary.errors.append(
                    f"{sources.shown(str(raw))}: path: holds no .jsonl or .json files; expected the release's "
                    "layout (persona/, advanced-ai-risk/, sycophancy/, winogenerated/) or files of its formats"
                )
                summary.files_rejected += 1
            for p in found:
                resolved = p.resolve()
                place = release.file_place(resolved, root)
                if identity:
                    # A clone or an unpacked archive: named by where it came from, not by the cache folder.
                    relative = resolved.relative_to(root).as_posix()
                    source_file, display = f"{identity}:{relative}", relative
                else:
                    source_file, display = str(resolved), str(p)
                found_sources.append(
                    ImportSource(resolved, source_file, display, place, resolved_source.provenance)
                )
        else:
            resolved = path.resolve()
            found_sources.append(
                ImportSource(resolved, str(resolved), str(path), release.file_place(resolved))
            )
    return found_sources


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) or 1
    except OSError:
        return 0


def dataset_import_paths(
    *,
    paths: list[str | Path],
    created_by=None,
    collection: str | None = None,
    origin: str | None = None,
    progress: Progress | None = None,
    say: sources.Say | None = None,
) -> ImportSummary:
    """Import JSON-lines files of the release's formats; folders are searched recursively. A path
    may also be a git repository (URL or local path: cloned shallowly into source_cache(), its
    commit recorded in each dataset's provenance) or a .zip/.tar.gz archive.

    One dataset per file, found again by the file's resolved path (or its repository and path in
    it), so importing twice adds nothing. `collection` and `origin` override what the path says.
    `progress(rows_done, rows_total)` counts lines; `say(text)` tells what is being fetched.
    Problems come back in the summary, never as exceptions.
    """
    _check_choice("collection", collection, Collection)
    _check_choice("origin", origin, Origin)
    summary = ImportSummary()
    found = _sources_from_paths(paths, summary, say)
    return sources_import(
        sources=found,
        created_by=created_by,
        collection=collection,
        origin=origin,
        progress=progress,
        summary=summary,
    )


def sources_import(
    *,
    sources: list[ImportSource],
    created_by=None,
    collection: str | None = None,
    origin: str | None = None,
    progress: Progress | None = None,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Import files already located (dataset_import_paths for paths, import_job_run for uploads).

    One file at a time: parsing it on a helper thread while the previous one is written was
    slower here (the GIL and the database share two cores).
    """
    summary = summary or ImportSummary()
    sizes = [_count_lines(s.path) for s in sources]
    total = sum(sizes)
    done = 0
    if progress:
        progress(0, total)
    dataset_ids: dict[int, None] = {}
    for source, size in zip(sources, sizes, strict=True):
        dataset_id = _file_store(
            source=source,
            read=_file_read(source),
            created_by=created_by,
            collection=collection,
            origin=origin,
            summary=summary,
        )
        if dataset_id is not None:
            dataset_ids[dataset_id] = None
        done += size
        if progress:
            progress(done, total)
    summary.dataset_ids = list(dataset_ids)
    summary.datasets = len(dataset_ids)
    return summary


@dataclass
class _FileRead:
    data: bytes = b""
    parsed: release.ParsedFile | None = None
    errors: list[str] = field(default_factory=list)


def _file_read(source: ImportSource) -> _FileRead:
    """Read and parse one file; no database."""
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return _FileRead(errors=[f"{source.display}: file: cannot be read ({exc.strerror or exc})"])
    try:
        return _FileRead(data, release.parse_file(data, name=source.display))
    except release.FileRejected as exc:
        return _FileRead(data, errors=[str(e) for e in exc.errors])


def _file_store(
    *, source: ImportSource, read: _FileRead, created_by, collection, origin, summary: ImportSummary
) -> int | None:
    """Write one parsed file in one transaction; returns its dataset's id, None if rejected."""
    summary.files += 1
    if read.errors:
        summary.errors.extend(read.errors)
        summary.files_rejected += 1
        return None
    parsed, data = read.parsed, read.data

    for attempt in (1, 2):
        try:
            with transaction.atomic():
                dataset, created, changes = _dataset_for_file(
                    source=source,
                    parsed=parsed,
                    data=data,
                    created_by=created_by,
                    collection=collection,
                    origin=origin,
                )
                if dataset.format != parsed.format:
                    raise release.FileRejected(
                        [
                            release.FileError(
                                source.display,
                                1,
                                "format",
                                f"the file holds {parsed.format} records but dataset {dataset.slug!r}, imported "
                                f"from the same path, holds {dataset.format} records; expected {dataset.format}",
                            )
                        ]
                    )
                present = set() if created else set(dataset.examples.values_list("content_hash", flat=True))
                new_rows = [row for row in parsed.rows if row.content_hash not in present]
                _examples_write(dataset_id=dataset.pk, rows=new_rows)
            break
        except IntegrityError:
            # Another import created the same dataset or rows at the same moment: once more finds them.
            if attempt == 2:
                summary.errors.append(
                    f"{source.display}: file: another import wrote the same dataset at the same time; import it again"
                )
                summary.files_rejected += 1
                return None
        except release.FileRejected as exc:
            summary.errors.extend(str(e) for e in exc.errors)
            summary.files_rejected += 1
            return None
        except DatabaseError as exc:
            # What validation did not foresee: the file is refused, the other files go on.
            summary.errors.append(
                f"{source.display}: file: the database refused it ({str(exc).strip()[:300]})"
            )
            summary.files_rejected += 1
            return None

    summary.datasets_created += created
    summary.notes.extend(changes)
    summary.rows_added += len(new_rows)
    summary.rows_present += len(parsed.rows) - len(new_rows)
    summary.duplicates_in_file += len(parsed.duplicates)
    if parsed.duplicates:
        line, first = parsed.duplicates[0]
        summary.notes.append(
            f"{source.display}:{line}: record: repeats line {first}; {len(parsed.duplicates)} repeated "
            f"record{'s' if len(parsed.duplicates) != 1 else ''} in this file, each stored once"
        )
    return dataset.pk


def _dataset_for_file(
    *, source: ImportSource, parsed: release.ParsedFile, data: bytes, created_by, collection, origin
) -> tuple[Dataset, bool, list[str]]:
    """The file's dataset (found again or made) and what changed in a found one. A collection or
    origin chosen for the import is applied to a dataset found again, so that importing a file
    again "as persona" does not report "0 new" and leave it as it was."""
    _lock_source(source.source_file)
    dataset = Dataset.objects.filter(source_file=source.source_file).order_by("pk").first()
    if dataset is not None:
        changes = [
            f"{dataset.slug}: {name} changed from {choices(getattr(dataset, name)).label} to {choices(value).label}"
            for name, value, choices in (("collection", collection, Collection), ("origin", origin, Origin))
            if value and getattr(dataset, name) != value
        ]
        if changes:
            dataset_update(dataset=dataset, collection=collection, origin=origin)
        return dataset, False, changes
    place = source.place
    provenance = {
        "source_file": place.relative_path,
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "records": parsed.records,
        "json_style": parsed.json_style,
        "keys": parsed.keys,
    }
    commit = release.release_commit(source.path) if source.path.is_absolute() else None
    if commit:
        provenance["commit"] = commit
    provenance.update(source.provenance)
    found_collection, found_origin, recognised = release.recognise(place, parsed.format)
    if collection:
        recognised["collection"] = "chosen"
    if origin:
        recognised["origin"] = "chosen"
    provenance["recognised"] = recognised
    dataset = Dataset.objects.create(
        slug=_free_slug(place.slug),
        name=place.relative_path.rsplit(".", 1)[0][:200],
        collection=collection or found_collection or Collection.CUSTOM,
        origin=origin or found_origin or Origin.LM_WRITTEN,
        format=parsed.format,
        behavior=place.behavior,
        source_file=source.source_file[:500],
        provenance=provenance,
        created_by=created_by,
    )
    return dataset, True, []


def _recognised(provenance: dict, collection, origin) -> dict:
    recognised = dict((provenance or {}).get("recognised") or {})
    if collection:
        recognised["collection"] = "chosen"
    if origin:
        recognised["origin"] = "chosen"
    return recognised


def _lock_source(source_file: str) -> None:
    """Serialise imports of one file until the end of the transaction. Without it, two imports of
    a new file could both find no dataset and make two (the second under slug-2)."""
    advisory_xact_lock(source_file)


def _free_slug(base: str) -> str:
    taken = set(Dataset.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# Columns written per example, in order; text fields a format leaves out are "" (NOT NULL).
_COLUMNS = ("dataset_id", "line", "repeat_lines", "content_hash", *RECORD_FIELDS[2:])


def _row_values(dataset_id: int, rows: list[release.Row]):
    """Database values in _COLUMNS order; JSON fields as JSON text, as Django writes them. The few
    distinct answer strings (" Yes", " (A)") are encoded once."""
    dumps = json.dumps
    encoded: dict[str, str] = {}

    def as_json(value):
        if value is None:
            return None
        if type(value) is str:
            text = encoded.get(value)
            if text is None:
                text = encoded[value] = dumps(value)
            return text
        return dumps(value)

    for row in rows:
        fields = row.fields
        get = fields.get
        yield (
            dataset_id,
            row.line,
            dumps(row.repeat_lines) if row.repeat_lines else "[]",
            row.content_hash,
            get("question", ""),
            get("statement", ""),
            get("label_confidence"),
            as_json(get("answer_matching_behavior")),
            as_json(get("answer_not_matching_behavior")),
            get("index"),
            get("occupation", ""),
            get("other_person", ""),
            get("sentence_with_blank", ""),
            as_json(get("pronoun_options")),
            get("bls_percent_women_2019"),
            get("bls_original_occupation", ""),
            dumps(fields["extra"]) if fields["extra"] else "{}",
        )


def _examples_write(*, dataset_id: int, rows: list[release.Row]) -> None:
    """Raw SQL, not bulk_create: building 160k model instances costs more than the database does.
    PostgreSQL COPY; elsewhere (SQLite) one executemany of INSERT OR IGNORE."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, columns = quote(Example._meta.db_table), ", ".join(quote(c) for c in _COLUMNS)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                write = copy.write_row
                for values in _row_values(dataset_id, rows):
                    write(values)
        else:
            placeholders = ", ".join(["%s"] * len(_COLUMNS))
            cursor.executemany(
                f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({placeholders})",
                _row_values(dataset_id, rows),
            )


def _check_choice(name: str, value: str | None, choices) -> None:
    if value and value not in choices.values:
        raise ApplicationError(
            f"{name}: {value!r} is not one of {', '.join(choices.values)}", extra={"field": name}
        )


# --- Editing ------------------------------------------------------------------------------------


def dataset_update(
    *, dataset: Dataset, behavior: str | None = None, collection: str | None = None, origin: str | None = None
) -> Dataset:
    """Change what the researcher may correct: the behaviour description crowdworkers read beside
    each question, and the collection and origin when the file's path did not say them. None (or an
    empty collection/origin) leaves a field as it is."""
    fields = []
    if behavior is not None:
        behavior = behavior.strip()
        if not behavior:
            raise ApplicationError(
                "behavior: must not be empty; describe the behaviour the dataset tests", {"field": "behavior"}
            )
        if len(behavior) > 2000:
            raise ApplicationError("behavior: is longer than 2,000 characters", {"field": "behavior"})
        dataset.behavior = behavior
        fields.append("behavior")
    _check_choice("collection", collection, Collection)
    _check_choice("origin", origin, Origin)
    if collection or origin:
        dataset.provenance = {
            **(dataset.provenance or {}),
            "recognised": _recognised(dataset.provenance, collection, origin),
        }
        fields.append("provenance")
    if collection:
        dataset.collection = collection
        fields.append("collection")
    if origin:
        dataset.origin = origin
        fields.append("origin")
    if fields:
        dataset.save(update_fields=[*fields, "updated_at"])
    return dataset


def dataset_update_behavior(*, dataset: Dataset, behavior: str) -> Dataset:
    """The behaviour description crowdworkers read beside each question."""
    return dataset_update(dataset=dataset, behavior=behavior or "")


# --- Upload jobs ---------------------------------------------------------------------------------


def _job_folder(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(job_id)


def _valid_name(text: str, fallback: str = "_") -> str:
    try:
        return get_valid_filename(text)
    except SuspiciousFileOperation:  # nothing usable left, e.g. "()"
        return fallback


def _upload_relative_paths(files: list, paths: list[str] | None) -> list[str]:
    """Each upload's path relative to the folder the researcher chose, cleaned part by part; the
    file's name alone where the browser sent no path. Django keeps only the name of an upload, so
    the page (and API clients) send folder uploads' relative paths beside the files."""
    names = [_valid_name(Path(f.name or "upload.jsonl").name, "upload.jsonl") for f in files]
    if not paths:
        return names
    if len(paths) != len(files):
        raise ApplicationError(
            f"paths: {len(paths)} given for {len(files)} files; give one relative path per file, in the same "
            "order, or none",
            {"field": "paths"},
        )
    relatives = []
    for n, (raw, name) in enumerate(zip(paths, names, strict=True), 1):
        parts = [part for part in str(raw).replace("\\", "/").split("/") if part not in ("", ".")]
        if not parts or ".." in parts or _valid_name(parts[-1], "upload.jsonl") != name:
            raise ApplicationError(
                f"paths: path {n} ({str(raw)[:200]!r}) must be a relative path ending in its file's name {name!r}",
                {"field": "paths"},
            )
        relatives.append("/".join([*(_valid_name(part) for part in parts[:-1]), name])[:400])
    return relatives


def _importable(relative: str) -> bool:
    """Folder uploads carry READMEs and hidden files: only their JSON-lines files are imported."""
    parts = relative.split("/")
    return relative.endswith(release.IMPORTABLE_SUFFIXES) and not any(p.startswith(".") for p in parts)


def import_job_create(
    *, user, files: list, collection: str = "", origin: str = "", paths: list[str] | None = None
) -> ImportJob:
    """Keep the uploaded files under MEDIA_ROOT and enqueue their import (generation.tasks).

    `paths` are the files' paths relative to a chosen folder (a folder upload): they say the
    collection and origin as the command line's paths do (advanced-ai-risk/human_generated_evals/x.jsonl).
    """
    from generation.tasks import import_job_run as import_job_run_task

    if not files:
        raise ApplicationError("files: choose at least one .jsonl file", {"field": "files"})
    _check_choice("collection", collection, Collection)
    _check_choice("origin", origin, Origin)
    relatives = _upload_relative_paths(files, paths)
    # A folder's other files (README.md, .git/...) are skipped; a file chosen by itself is imported or refused.
    chosen = [(f, r) for f, r in zip(files, relatives, strict=True) if "/" not in r or _importable(r)]
    if not chosen:
        raise ApplicationError(
            "files: the chosen folder holds no .jsonl or .json files; choose the release's folder or its files",
            {"field": "files"},
        )
    repeated = sorted({r for _f, r in chosen if relatives.count(r) > 1})
    if repeated:
        raise ApplicationError(
            f"files: {', '.join(repeated)} chosen twice; each file becomes one dataset named after it",
            {"field": "files"},
        )
    with transaction.atomic():
        job = ImportJob.objects.create(created_by=user, collection=collection or "", origin=origin or "")
        folder = _job_folder(job.pk)
        folder.mkdir(parents=True, exist_ok=True)
        stored, total = [], 0
        try:
            for n, (upload, relative) in enumerate(chosen):
                # Numbered: files of one name from different folders (patience.jsonl three times).
                target = folder / f"{n:05d}-{relative.rsplit('/', 1)[-1]}"
                with target.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                stored.append({"name": relative, "path": str(target)})
                total += _count_lines(target)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ApplicationError(f"files: could not be stored ({exc})") from exc
        job.files = stored
        job.rows_total = total
        job.save(update_fields=["files", "rows_total"])
        # With the broker down the request still answers with the saved job; the sweep wakes it.
        send_on_commit(import_job_run_task, job.pk)
    return job


def upload_source_key(uploader_id: int | None, name: str) -> str:
    """What finds an upload's dataset again: the uploader and the file's name, or its path relative
    to the folder uploaded. Keyed by name alone,
    another researcher's file of the same name appended its rows to the first one's dataset."""
    return f"upload:{uploader_id}:{name}"


def import_jobs_heal(*, now=None) -> list[int]:
    """The work sweep's part for uploads: wake the jobs that lost their message or their worker."""
    from generation.tasks import import_job_run as import_job_run_task

    return jobs_heal(ImportJob, import_job_run_task, now=now)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import job. A redelivered job that already finished is left alone; one that
    stopped half way runs again (the import is idempotent)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["status"])

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25 or done >= total:
            last[0] = now
            ImportJob.objects.filter(pk=job_id).update(rows_done=done, rows_total=total)

    sources = [
        ImportSource(Path(f["path"]), upload_source_key(job.created_by_id, f["name"]), f["name"], release.file_place(Path(f["name"])))
        for f in job.files
    ]
    try:
        summary = sources_import(
            sources=sources,
            created_by=job.created_by,
            collection=job.collection or None,
            origin=job.origin or None,
            progress=progress,
        )
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, errors=[f"import stopped: {exc}"], finished_at=timezone.now()
        )
        raise
    job.refresh_from_db()
    job.summary = summary.as_dict()
    job.errors = summary.errors
    job.rows_done = job.rows_total
    job.status = ImportJob.Status.FAILED if summary.files_rejected else ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    shutil.rmtree(_job_folder(job.pk), ignore_errors=True)
    return job
