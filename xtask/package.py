"""Deterministic release archives for `cargo xtask release` (xtask/src/release.rs).

Two runs over the same files give the same bytes: entries sorted by name, every mtime set
to SOURCE_DATE_EPOCH (the commit's time), fixed modes, no owner names, and no name or time
in the gzip header. Python's standard library does it, so xtask needs no crate for it.

usage:
  package.py zip OUT NAME=PATH...      entries at the zip root (the Traefik catalog's layout)
  package.py tar OUT PREFIX NAME=PATH...  a .tar.gz with every entry under PREFIX/
  package.py sums OUT FILE...          sha256sum-compatible lines, sorted by file name
"""

import gzip
import hashlib
import io
import os
import sys
import tarfile
import time
import zipfile


def epoch():
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or not value.isdigit():
        sys.exit("package.py: SOURCE_DATE_EPOCH must be set to a Unix time")
    # A zip cannot date anything before 1980.
    return max(int(value), 315532800)


def entries(pairs):
    out = []
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name:
            sys.exit(f"package.py: expected NAME=PATH, got {pair!r}")
        out.append((name, path))
    return sorted(out)


def mode_of(path):
    # Only the executable bit is kept: the umask of whoever built the files must not matter.
    return 0o755 if os.access(path, os.X_OK) else 0o644


def write_zip(out, pairs):
    stamp = time.gmtime(epoch())[:6]
    with zipfile.ZipFile(out, "w") as archive:
        for name, path in entries(pairs):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is read
            info.external_attr = (0o100000 | mode_of(path)) << 16
            with open(path, "rb") as source:
                archive.writestr(info, source.read(), compresslevel=9)


def write_tar(out, prefix, pairs):
    stamp = epoch()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        directory = tarfile.TarInfo(prefix)
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        directory.mtime = stamp
        archive.addfile(directory)
        for name, path in entries(pairs):
            info = tarfile.TarInfo(f"{prefix}/{name}")
            with open(path, "rb") as source:
                data = source.read()
            info.size = len(data)
            info.mode = mode_of(path)
            info.mtime = stamp
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    with open(out, "wb") as target:
        # filename="" and mtime: the gzip header holds neither a name nor a time.
        with gzip.GzipFile(filename="", mode="wb", fileobj=target, compresslevel=9, mtime=stamp) as packed:
            packed.write(raw.getvalue())


def write_sums(out, files):
    lines = []
    for path in sorted(files, key=os.path.basename):
        with open(path, "rb") as source:
            digest = hashlib.sha256(source.read()).hexdigest()
        lines.append(f"{digest}  {os.path.basename(path)}\n")
    with open(out, "w", encoding="ascii") as target:
        target.writelines(lines)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, out, rest = argv[1], argv[2], argv[3:]
    if command == "zip":
        write_zip(out, rest)
    elif command == "tar" and rest:
        write_tar(out, rest[0], rest[1:])
    elif command == "sums":
        write_sums(out, rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
