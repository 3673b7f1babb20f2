"""Where a release comes from when it is not a plain folder: a git repository or an archive.

`source_resolve` turns one import_evals argument into a local folder (or leaves a plain path as it
is) plus what to record as each dataset's provenance. A repository (any URL git understands, or a
local path holding one) is cloned shallowly into a cache under QA_VAR_DIR and fetched again on
the next import; an archive (.zip, .tar.gz, .tgz) is unpacked into the same cache, refusing any
member that would land outside it. No Django: the cache folder is passed in.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
GIT_TIMEOUT_S = 600
# scp-like git addresses: git@github.com:anthropics/evals.git
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]")
_URL = re.compile(r"^(https?|git|ssh|file|git\+ssh)://", re.IGNORECASE)
_CREDENTIALS = re.compile(r"(://)[^/@]+@")

Say = Callable[[str], None]


class SourceError(ValueError):
    """A source that cannot be read; the message names it and says what was expected."""


@dataclass
class ResolvedSource:
    folder: Path  # what to import (a file or a folder)
    identity: str  # stable name of the source, for finding its datasets again ("" for plain paths)
    provenance: dict = field(default_factory=dict)  # added to each dataset's provenance


def shown(url: str) -> str:
    """A URL as messages may show it: without a password or token."""
    return _CREDENTIALS.sub(r"\1", url)


def is_git_source(arg: str) -> bool:
    if _URL.match(arg) or _SCP_LIKE.match(arg):
        return True
    path = Path(arg).expanduser()
    return path.is_dir() and (path / ".git").exists()


def is_archive(arg: str) -> bool:
    return arg.lower().endswith(ARCHIVE_SUFFIXES) and Path(arg).expanduser().is_file()


def source_resolve(arg: str, *, cache: Path, say: Say | None = None) -> ResolvedSource:
    """The local folder for one argument of import_evals. Raises SourceError."""
    say = say or (lambda _message: None)
    if is_git_source(arg):
        return git_checkout(arg, cache=cache / "git", say=say)
    if is_archive(arg):
        return archive_unpack(Path(arg).expanduser(), cache=cache / "archives", say=say)
    return ResolvedSource(Path(arg).expanduser(), "")


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise SourceError("git: the git command is not installed; install git or pass a folder") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"git: gave no answer within {GIT_TIMEOUT_S} seconds") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        detail = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
        raise SourceError(detail.removeprefix("fatal: ").removeprefix("error: ") or f"exit status {done.returncode}")
    return done.stdout.strip()


def _git_url(arg: str) -> str:
    if _URL.match(arg) or _SCP_LIKE.match(arg):
        return arg
    return Path(arg).expanduser().resolve().as_uri()  # a local repository, cloned like a remote one


def git_checkout(arg: str, *, cache: Path, say: Say) -> ResolvedSource:
    """Clone `arg` shallowly into the cache (or fetch its newest commit into the clone there)."""
    url = _git_url(arg)
    folder = cache / _key(url)
    try:
        if (folder / ".git").is_dir():
            say(f"Fetching {shown(url)} into {folder}")
            _git("fetch", "--depth", "1", "--quiet", "origin", "HEAD", cwd=folder)
            _git("reset", "--hard", "--quiet", "FETCH_HEAD", cwd=folder)
        else:
            say(f"Cloning {shown(url)} (shallow) into {folder}")
            cache.mkdir(parents=True, exist_ok=True)
            partial = Path(tempfile.mkdtemp(prefix=".clone-", dir=cache))
            try:
                _git("clone", "--depth", "1", "--quiet", "--", url, str(partial))
                _move_into_place(partial, folder)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        commit = _git("rev-parse", "HEAD", cwd=folder)
    except SourceError as exc:
        raise SourceError(
            f"{shown(arg)}: repository: cannot be cloned ({shown(str(exc))}); expected a git repository URL "
            "such as https://github.com/anthropics/evals or a local path holding one"
        ) from None
    say(f"At commit {commit}")
    return ResolvedSource(folder, f"git:{shown(url)}", {"repository": shown(url), "commit": commit})


def _move_into_place(partial: Path, folder: Path) -> None:
    """Rename the finished copy into place; another import that finished first leaves its own."""
    try:
        partial.rename(folder)
    except OSError:
        if not folder.is_dir():
            raise SourceError(f"cannot write the cache folder {folder}") from None


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's path inside the archive, or None when it would leave the folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def archive_unpack(archive: Path, *, cache: Path, say: Say) -> ResolvedSource:
    """Unpack a .zip or .tar.gz once per content into the cache; only regular files are written."""
    archive = archive.resolve()
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    folder = cache / sha[:16]
    provenance = {"archive": archive.name, "archive_sha256": sha}
    if folder.is_dir():
        return ResolvedSource(folder, f"archive:{archive.name}", provenance)
    say(f"Unpacking {archive.name}")
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache))
    try:
        if archive.name.lower().endswith(".zip"):
            _unzip(archive, partial)
        else:
            _untar(archive, partial)
        _move_into_place(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ResolvedSource(folder, f"archive:{archive.name}", provenance)


def _write_member(target_root: Path, name: str, read, archive: Path) -> None:
    path = _safe_member(name)
    if path is None:
        raise SourceError(f"{archive.name}: archive: member {name!r} points outside the archive; nothing was imported")
    target = target_root.joinpath(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with read() as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)


def _unzip(archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                if not info.is_dir():
                    _write_member(target, info.filename, lambda info=info: zipped.open(info), archive)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{archive.name}: archive: not a readable .zip file ({exc})") from None


def _untar(archive: Path, target: Path) -> None:
    try:
        with tarfile.open(archive, "r:*") as tarred:
            for member in tarred:
                if member.isfile():
                    _write_member(target, member.name, lambda member=member: tarred.extractfile(member), archive)
                # Links, devices and folders are skipped: a release is plain files.
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SourceError(f"{archive.name}: archive: not a readable .tar.gz file ({exc})") from None
