"""Results folders the tool owns, and the rule that it never loses a file it did not write.

Every folder the tool creates holds a manifest, :data:`MANIFEST`, naming the tool and
every file in it with the command that wrote it. The rules that follow from it:

- A run may replace a folder only if the manifest says the tool owns it and the folder
  holds nothing the manifest does not list. A file, or a folder with anything else in
  it, is refused before anything is simulated (:class:`OutputError`), unless the caller
  passes ``force``: then the run writes its files beside the others and deletes none.
- A replaced folder is swapped whole (see :func:`results_folder`): readers see the old
  run or the new one, never half. Files another command wrote there (``sim map``'s
  picture) are carried into the new folder.
- Concurrent writers to one folder swap one at a time under a lock on its parent, so
  each finishes and the folder always holds one complete run.
- Work folders left by a killed process (``.NAME.partial-PID-…``, ``.NAME.old-PID-…``)
  are recognised by their marker and the dead PID, and cleaned up by the next writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.atomic import default_mode, write_text_atomic
from sim.errors import OutputError

MANIFEST = ".chengguan-sim.json"
TOOL = "chengguan-sim"
_PARTIAL = "partial"
_OLD = "old"
_TMP_FILE = ".tmp"


# ----------------------------------------------------------------------- manifest


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or ``None`` when the tool does not own the folder."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("tool") != TOOL
        or not isinstance(data.get("files"), dict)
    ):
        return None
    return data


_OWN_KEYS = ("tool", "kind", "files", "work")


def _meta(manifest: dict[str, Any] | None) -> dict[str, Any]:
    """What else a manifest records (a run's ``sources``), kept when it is rewritten."""
    return {k: v for k, v in (manifest or {}).items() if k not in _OWN_KEYS}


def _write_manifest(
    folder: Path,
    kind: str,
    files: dict[str, str],
    *,
    work: bool = False,
    meta: dict[str, Any] | None = None,
) -> None:
    data: dict[str, Any] = {"tool": TOOL, "kind": kind, **(meta or {})}
    data["files"] = dict(sorted(files.items()))
    if work:
        data["work"] = True  # a work folder: everything in it is the tool's, being written
    write_text_atomic(folder / MANIFEST, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _listed(folder: Path, manifest: dict[str, Any]) -> set[str]:
    return set(manifest["files"]) | {MANIFEST}


def _foreign(folder: Path, manifest: dict[str, Any] | None) -> list[str]:
    """Top-level entries of ``folder`` the tool did not write, sorted."""
    listed = _listed(folder, manifest) if manifest is not None else {MANIFEST}
    out = []
    for entry in folder.iterdir():
        if entry.name in listed or _is_own_temp(entry.name):
            continue
        out.append(entry.name)
    return sorted(out)


def _is_own_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(_TMP_FILE)


# ----------------------------------------------------------------------- checks


def check_path(path: Path, what: str) -> Path:
    """``path`` made absolute; refuse names the file system cannot hold."""
    path = Path(os.path.abspath(path))  # noqa: PTH100 - normalise "..", keep symlinks
    try:  # a name too long for the file system makes even exists() fail
        base = _existing_ancestor(path)
        name_max = os.pathconf(base, "PC_NAME_MAX")
        path_max = os.pathconf(base, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        name_max, path_max = 255, 4096
    long = [p for p in path.parts if len(os.fsencode(p)) > name_max]
    if long:
        raise OutputError(
            [f"{what}: a name in the path is longer than {name_max} bytes ({long[0][:40]}…)"]
        )
    if len(os.fsencode(str(path))) >= path_max:
        raise OutputError([f"{what}: the path is longer than {path_max} bytes"])
    return path


def _existing_ancestor(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists():
            return p
    return Path(path.anchor or ".")


def _check_writable(folder: Path, what: str) -> None:
    """Refuse early, with a reason, a location the tool could not create files in."""
    base = _existing_ancestor(folder)
    if not base.is_dir():
        raise OutputError([f"{what}: {base} is a file, so {folder} cannot be a folder"])
    try:
        fd, name = tempfile.mkstemp(dir=base, prefix=".chengguan-sim-probe-", suffix=_TMP_FILE)
        os.close(fd)
        Path(name).unlink()
    except OSError as exc:
        raise OutputError([f"{what}: cannot write in {base} ({_reason(exc)})"]) from None


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def _check_location(out: Path, kind: str, what: str) -> dict[str, Any] | None:
    """Refuse a symlink, a file, or a folder of another kind; return the folder's manifest."""
    if out.is_symlink():
        raise OutputError(
            [
                f"{what}: {out} is a symbolic link; nothing was written (name the folder it points to)"
            ]
        )
    if out.exists() and not out.is_dir():
        raise OutputError([f"{what}: {out} is a file, not a folder; nothing was written"])
    manifest = read_manifest(out) if out.is_dir() else None
    if manifest is not None and manifest.get("kind") not in (kind, None):
        raise OutputError(
            [
                f"{what}: {out} holds {manifest.get('kind')} results, not {kind} results; "
                "nothing was written"
            ]
        )
    return manifest


def claim(out: Path, kind: str, *, force: bool = False, what: str = "results folder") -> Path:
    """Check, before any work, that ``out`` may hold this ``kind`` of results.

    Returns the absolute path. Raises :class:`OutputError` for a file, for a folder of
    another kind, and (without ``force``) for a folder holding files the tool did not
    write. Nothing is created or changed.
    """
    out = check_path(out, what)
    manifest = _check_location(out, kind, what)
    if out.is_dir():
        foreign = _foreign(out, manifest)
        if foreign and not force:
            shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise OutputError(
                [
                    f"{what}: {out} holds files this tool did not write ({shown}); "
                    "nothing was written"
                ],
                forceable=True,
            )
    _check_writable(out, what)
    return out


# ----------------------------------------------------------------------- locking


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (advisory; a no-op where flock is missing)."""
    try:
        import fcntl  # Unix only: imported where it is used, so the rest runs anywhere
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# ----------------------------------------------------------------------- stale work


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _work_pid(name: str, target: str, tag: str) -> int | None:
    prefix = f".{target}.{tag}-"
    if not name.startswith(prefix):
        return None
    head = name[len(prefix) :].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _remove_owned(folder: Path) -> bool:
    """Delete a folder of ours if every entry in it is listed in its manifest."""
    manifest = read_manifest(folder)
    if manifest is None or _foreign(folder, manifest):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()


def _remove_work(folder: Path) -> bool:
    """Delete a work folder whose manifest says it is one: all of it is the tool's."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("work") is not True:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()


def clean_stale(out: Path) -> list[str]:
    """Tidy what killed writers of ``out`` left beside it; return what was done.

    A dead writer's partial folder is deleted; a dead writer's ``old`` folder is put
    back if ``out`` itself went missing in the swap, and deleted otherwise. Only folders
    carrying the tool's manifest and nothing else are touched.
    """
    done: list[str] = []
    parent = out.parent
    if not parent.is_dir():
        return done
    for entry in sorted(parent.iterdir()):
        for tag in (_PARTIAL, _OLD):
            pid = _work_pid(entry.name, out.name, tag)
            if pid is None or _pid_alive(pid) or not entry.is_dir():
                continue
            if tag == _OLD and not out.exists() and read_manifest(entry) is not None:
                entry.rename(out)
                done.append(f"restored {out.name} from an interrupted swap")
            elif _remove_owned(entry) or (tag == _PARTIAL and _remove_work(entry)):
                done.append(f"removed {entry.name}, left by a stopped run")
    if out.is_dir() and read_manifest(out) is not None:
        for entry in out.iterdir():
            pid = _temp_pid(entry.name)
            if pid is not None and not _pid_alive(pid) and entry.is_file():
                entry.unlink(missing_ok=True)
    return done


def _temp_pid(name: str) -> int | None:
    if not _is_own_temp(name):
        return None
    stem = name.removesuffix(_TMP_FILE).rsplit(".", 1)[-1]
    head = stem.split("-", 1)[0]
    return int(head) if head.isdigit() else None


# ----------------------------------------------------------------------- writing


@contextlib.contextmanager
def results_folder(
    out: Path,
    kind: str = "run",
    *,
    command: str = "run",
    force: bool = False,
    meta: dict[str, Any] | None = None,
) -> Iterator[Path]:
    """Yield a fresh folder to fill; on success it becomes ``out``, atomically.

    Every file the block leaves in the folder is recorded in the manifest as written
    by ``command``; files other commands wrote into the old folder are carried over.
    ``meta`` is recorded in the manifest beside them (a run's ``sources``).
    On failure or interruption the work folder is removed and ``out`` is untouched.
    """
    out = claim(out, kind, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.{_PARTIAL}-{os.getpid()}-"))
    try:
        tmp.chmod(default_mode(0o777))  # mkdtemp makes it private; results are for sharing
        _write_manifest(tmp, kind, {}, work=True)  # marks the work folder ours from the start
        yield tmp
        files = {p.name: command for p in tmp.iterdir() if p.name != MANIFEST}
        with _locked(out.parent):
            _install(tmp, out, kind, command, files, force=force, meta=meta)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _install(
    tmp: Path,
    out: Path,
    kind: str,
    command: str,
    files: dict[str, str],
    *,
    force: bool,
    meta: dict[str, Any] | None = None,
) -> None:
    """Move the finished work folder into place (the caller holds the parent's lock)."""
    if out.exists() or out.is_symlink():
        # checked again under the lock: the folder may have changed while we simulated
        claim(out, kind, force=force)
    manifest = read_manifest(out) if out.is_dir() else None
    if out.is_dir() and _foreign(out, manifest):  # only with force: claim refuses otherwise
        _merge_into(tmp, out, kind, files, manifest, meta)
        return
    if manifest is not None:  # what other commands wrote there comes along
        for name, cmd in manifest["files"].items():
            if cmd != command and name not in files and (out / name).exists():
                _link_or_copy(out / name, tmp / name)
                files[name] = cmd
    _write_manifest(tmp, kind, files, meta=meta)
    if out.is_dir() and manifest is None:
        out.rmdir()  # an empty folder: nothing in it to keep
    if not out.exists():
        tmp.replace(out)
        return
    old = out.parent / f".{out.name}.{_OLD}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    out.replace(old)
    tmp.replace(out)
    _remove_owned(old)


def _merge_into(
    tmp: Path,
    out: Path,
    kind: str,
    files: dict[str, str],
    manifest: dict[str, Any] | None,
    meta: dict[str, Any] | None,
) -> None:
    """``force`` into a folder with foreign files: replace our names only, delete none."""
    for name in files:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            if read_manifest(target) is None and name not in (manifest or {}).get("files", {}):
                raise OutputError([f"results folder: {target} is a folder the tool did not write"])
            shutil.rmtree(target)
        (tmp / name).replace(target)
    recorded = dict((manifest or {}).get("files", {}))
    recorded.update(files)
    _write_manifest(out, kind, recorded, meta={**_meta(manifest), **(meta or {})})


def _link_or_copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def check_file(path: Path, *, force: bool = False) -> Path:
    """Check, before any work, that the tool may write the file ``path``; return it absolute.

    A new file may always be written; an existing one only if the manifest of its folder
    says the tool wrote it, or with ``force``.
    """
    path = check_path(path, "output file")
    if path.is_dir():
        raise OutputError([f"output file: {path} is a folder; give a file name"])
    if path.exists() and not force and not _is_listed(path):
        raise OutputError(
            [f"output file: {path} exists and this tool did not write it; nothing was written"],
            forceable=True,
        )
    _check_writable(path.parent, "output file")
    return path


def _is_listed(path: Path) -> bool:
    manifest = read_manifest(path.parent)
    return manifest is not None and path.name in manifest["files"]


@contextlib.contextmanager
def owned_file(path: Path, *, command: str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    In a folder the tool owns, or one it creates for the file, the file is recorded in
    the manifest under ``command``, so that a later run into that folder carries it over.
    """
    path = check_file(path, force=force)
    folder = path.parent
    new_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{_TMP_FILE}"
    try:
        yield tmp
        with _locked(folder):
            check_file(path, force=force)
            manifest = read_manifest(folder)
            tmp.replace(path)
            if manifest is not None or new_folder:
                files = dict(manifest["files"]) if manifest is not None else {}
                files[path.name] = command
                kind = str(manifest.get("kind", "run")) if manifest is not None else "run"
                _write_manifest(folder, kind, files, meta=_meta(manifest))
    finally:
        tmp.unlink(missing_ok=True)


def open_batch(out: Path, kind: str, names: tuple[str, ...], *, force: bool = False) -> Path:
    """Prepare a sweep's or optimiser's folder, which grows run by run and is resumed.

    Unlike a run's folder it is never replaced whole, so it need not be the tool's
    alone: it may be new, or hold anything, as long as none of the ``names`` the batch
    writes is there without the tool having written it (unless ``force``). The names
    are recorded in the manifest, so the next call resumes in the same folder.
    """
    out = check_path(out, "results folder")
    manifest = _check_location(out, kind, "results folder")
    ours = set(manifest["files"]) if manifest is not None else set()
    clash = sorted(n for n in names if (out / n).exists() and n not in ours)
    if clash and not force:
        raise OutputError(
            [
                f"results folder: {out} holds {', '.join(clash)}, which this tool did not "
                "write; nothing was written"
            ],
            forceable=True,
        )
    _check_writable(out, "results folder")
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        manifest = read_manifest(out)
        files = dict(manifest["files"]) if manifest is not None else {}
        files.update({n: files.get(n, kind) for n in names})
        _write_manifest(out, kind, files, meta=_meta(manifest))
    return out
