"""import_evals from a git repository (cloned through a file:// URL made in the test) or an archive."""

import io
import shutil
import subprocess
import tarfile
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from generation.models import Dataset, Example

pytestmark = pytest.mark.django_db

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"]


@pytest.fixture(autouse=True)
def var_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def git(*args, cwd):
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def release_repo(tmp_path, release_fixtures) -> tuple[Path, str]:
    """A git repository holding the miniature release, as anthropics/evals holds the real one."""
    repo = tmp_path / "evals"
    shutil.copytree(release_fixtures, repo)
    (repo / "README.md").write_text("# evals\n")
    git("init", "--quiet", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "-m", "release", cwd=repo)
    return repo, git("rev-parse", "HEAD", cwd=repo)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_evals", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_git_repository_by_url_and_records_its_commit(release_repo, settings, client, researcher):
    repo, commit = release_repo
    url = repo.as_uri()
    out, err = run(url)
    assert "files: 6, datasets: 6 (6 new), rows added: 15" in out
    assert f"Cloning {url} (shallow)" in err and f"At commit {commit}" in err
    human = Dataset.objects.get(slug="patience-human")
    assert (human.collection, human.origin) == ("advanced-ai-risk", "human-written")
    assert human.provenance["commit"] == commit
    assert human.provenance["repository"] == url
    assert human.provenance["source_file"] == "advanced-ai-risk/human_generated_evals/patience.jsonl"
    assert {d.provenance["commit"] for d in Dataset.objects.all()} == {commit}
    client.force_login(researcher)
    page = client.get(f"/datasets/{Dataset.objects.get(slug='tidiness').pk}/").content.decode()
    assert f"in <code>{url}</code> at commit <code>{commit}</code>" in page
    # The clone is kept in the cache under QA_VAR_DIR.
    assert (Path(settings.VAR_DIR) / "sources" / "git").is_dir()


def test_importing_the_repository_again_adds_nothing_and_takes_its_new_files(release_repo, write_jsonl):
    repo, _ = release_repo
    run(repo.as_uri())
    (repo / "persona" / "calm.jsonl").write_text((repo / "persona" / "tidiness.jsonl").read_text())
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "-m", "one more", cwd=repo)
    out, _ = run(repo.as_uri())
    assert "datasets: 7 (1 new), rows added: 4, rows already present: 15" in out
    assert Dataset.objects.get(slug="calm").provenance["commit"] == git("rev-parse", "HEAD", cwd=repo)


def test_a_local_path_of_a_repository_is_cloned_with_its_commit(release_repo):
    repo, commit = release_repo
    (repo / "persona" / "untracked.jsonl").write_text((repo / "persona" / "tidiness.jsonl").read_text())
    run(str(repo))
    assert Dataset.objects.get(slug="tidiness").provenance["commit"] == commit
    # What the commit holds, not what lies around in the working tree.
    assert not Dataset.objects.filter(slug="untracked").exists()


def test_a_repository_that_does_not_exist_is_a_clear_error_and_imports_nothing(tmp_path):
    url = (tmp_path / "no-such-repo").as_uri()
    with pytest.raises(CommandError, match=r"1 file\(s\) rejected"):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_evals", url, "--no-progress", stdout=out, stderr=err)
        finally:
            assert f"{url}: repository: cannot be cloned (" in err.getvalue()
            assert "expected a git repository URL such as https://github.com/anthropics/evals" in err.getvalue()
    assert not Dataset.objects.exists()


def test_a_repository_without_release_files_is_refused(tmp_path):
    repo = tmp_path / "notes"
    repo.mkdir()
    (repo / "notes.md").write_text("nothing to import")
    git("init", "--quiet", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "-m", "notes", cwd=repo)
    with pytest.raises(CommandError):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_evals", repo.as_uri(), "--no-progress", stdout=out, stderr=err)
        finally:
            assert "holds no .jsonl or .json files; expected the release's layout" in err.getvalue()
    assert not Dataset.objects.exists()


def test_a_password_in_the_url_never_appears_in_messages(tmp_path):
    with pytest.raises(CommandError):
        out, err = StringIO(), StringIO()
        try:
            call_command(
                "import_evals", "https://user:s3cret@127.0.0.1:9/evals", "--no-progress", stdout=out, stderr=err
            )
        finally:
            assert "s3cret" not in err.getvalue() + out.getvalue()
            assert "https://127.0.0.1:9/evals: repository: cannot be cloned" in err.getvalue()


def _archive_members(release_fixtures: Path) -> dict[str, bytes]:
    return {
        f"model-written-evals/{p.relative_to(release_fixtures).as_posix()}": p.read_bytes()
        for p in sorted(release_fixtures.rglob("*.jsonl"))
    }


def test_it_imports_a_zip_archive_of_the_release(tmp_path, release_fixtures):
    archive = tmp_path / "evals.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in _archive_members(release_fixtures).items():
            zipped.writestr(name, data)
    out, _ = run(str(archive))
    assert "files: 6, datasets: 6 (6 new), rows added: 15" in out
    human = Dataset.objects.get(slug="patience-human")
    assert (human.collection, human.origin) == ("advanced-ai-risk", "human-written")
    assert human.provenance["archive"] == "evals.zip"
    out, _ = run(str(archive))
    assert "datasets: 6 (0 new), rows added: 0, rows already present: 15" in out


def _tar(archive: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(archive, "w:gz") as tarred:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tarred.addfile(info, io.BytesIO(data))


def test_it_imports_a_tar_gz_archive_of_the_release(tmp_path, release_fixtures):
    archive = tmp_path / "evals.tar.gz"
    _tar(archive, _archive_members(release_fixtures))
    out, _ = run(str(archive))
    assert "files: 6, datasets: 6 (6 new), rows added: 15" in out
    assert Dataset.objects.get(slug="tidiness").collection == "persona"


def test_an_archive_member_outside_its_folder_is_refused_and_nothing_is_written(tmp_path, release_fixtures):
    archive = tmp_path / "evil.tar.gz"
    members = _archive_members(release_fixtures)
    members["../../escaped.jsonl"] = b"{}\n"
    _tar(archive, members)
    with pytest.raises(CommandError):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_evals", str(archive), "--no-progress", stdout=out, stderr=err)
        finally:
            assert "evil.tar.gz: archive: member '../../escaped.jsonl' points outside the archive" in err.getvalue()
    assert not Example.objects.exists()
    assert not list(tmp_path.rglob("escaped.jsonl"))


def test_a_broken_archive_is_a_clear_error(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"not a zip")
    with pytest.raises(CommandError):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_evals", str(archive), "--no-progress", stdout=out, stderr=err)
        finally:
            assert "broken.zip: archive: not a readable .zip file" in err.getvalue()
