"""A real Linux kernel for tests that boot Linux beside kestrel.

Debian's `linux-image-amd64` is a metapackage that depends on the current
`linux-image-<version>-amd64`, which holds /boot/vmlinuz-<version>. This
module downloads that package with `apt-get download` (no installation, no
root needed), unpacks only the vmlinuz from it (about 8 MB of its 400 MB) and
caches it as build/linux/vmlinuz-<version>; later runs reuse the cache.

On a machine whose apt lists were never fetched it runs `apt-get update`
once (as root, or through passwordless sudo). When the kernel cannot be had
it fails with a message saying what to run. Debian and Ubuntu only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import BUILD, check, file_lock

CACHE = BUILD / "linux"
METAPACKAGE = "linux-image-amd64"


def vmlinuz() -> Path:
    """The cached vmlinuz, downloaded first if there is none. One process at a
    time (a file lock): parallel tests download it once."""
    with file_lock(CACHE / ".lock"):
        # (not a `.partial` copy an interrupted run left behind)
        cached = sorted(p for p in CACHE.glob("vmlinuz-*") if not p.name.endswith(".partial"))
        if cached:
            return cached[-1]
        package = _image_package()
        with tempfile.TemporaryDirectory(prefix="kestrel-linux-") as scratch:
            deb = _download(package, Path(scratch))
            return _unpack_vmlinuz(deb, Path(scratch))


def version(path: Path) -> str:
    """The kernel release a cached vmlinuz holds, e.g. `6.1.0-56-amd64`."""
    return path.name.removeprefix("vmlinuz-")


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _image_package() -> str:
    """The versioned image package the metapackage depends on; fetches the
    apt lists once if apt does not know the metapackage yet."""
    package = _depends()
    if package is None:
        _apt_update()
        package = _depends()
    check(None, package is not None,
          f"apt knows no `{METAPACKAGE}` even after `apt-get update`: this test "
          f"needs Debian's (or Ubuntu's) package archive")
    return package


def _depends() -> str | None:
    result = _run(["apt-cache", "depends", METAPACKAGE])
    match = re.search(r"Depends: (linux-image-\S+)", result.stdout)
    return match.group(1) if match else None


def _apt_update() -> None:
    if os.geteuid() == 0:
        command = ["apt-get", "update", "-q"]
    elif shutil.which("sudo") and _run(["sudo", "-n", "true"]).returncode == 0:
        command = ["sudo", "-n", "apt-get", "update", "-q"]
    else:
        check(None, False, f"apt does not know `{METAPACKAGE}` and this is not root: "
                           f"run `sudo apt-get update`, then the tests again")
    result = _run(command)
    check(None, result.returncode == 0,
          f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}")


def _download(package: str, scratch: Path) -> Path:
    result = _run(["apt-get", "download", package], cwd=scratch)
    debs = list(scratch.glob(f"{package}_*.deb"))
    check(None, result.returncode == 0 and len(debs) == 1,
          f"`apt-get download {package}` failed (no network, or a stale apt list: "
          f"try `sudo apt-get update`):\n{result.stdout}{result.stderr}")
    return debs[0]


def _unpack_vmlinuz(deb: Path, scratch: Path) -> Path:
    """Extracts ./boot/vmlinuz-* from the package's data (what `dpkg-deb -x`
    would unpack, limited to that one file) into the cache."""
    out = scratch / "root"
    out.mkdir()
    data = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", str(out), "--wildcards", "./boot/vmlinuz-*"],
                         stdin=data.stdout, capture_output=True, text=True)
    data.stdout.close()
    check(None, data.wait() == 0 and tar.returncode == 0,
          f"unpacking the vmlinuz from {deb.name} failed: {tar.stderr}")
    found = list((out / "boot").glob("vmlinuz-*"))
    check(None, len(found) == 1, f"{deb.name} holds {len(found)} vmlinuz files, expected 1")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Move into place last: an interrupted run leaves no half-written cache.
    partial = CACHE / (found[0].name + ".partial")
    shutil.copyfile(found[0], partial)
    return partial.rename(CACHE / found[0].name)
