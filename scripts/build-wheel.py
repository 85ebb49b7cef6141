"""Builds the callerid-mock wheel: the pure-Python module `callerid_mock` (packages/python) and
the static Linux x86_64 binary as the `callerid-mock` executable (the wheel's scripts).

    python3 scripts/build-wheel.py VERSION BINARY OUTDIR

It does by hand what maturin's `bindings = "bin"` does, from a binary already built, so that
the release build is not repeated. The archive is reproducible: fixed timestamps, sorted.
"""

import base64
import hashlib
import os
import sys
import zipfile

NAME = "callerid_mock"
TAG = "py3-none-manylinux_2_17_x86_64"  # a static binary: no glibc needed at all


def main(version: str, binary: str, outdir: str) -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = os.path.join(root, "packages", "python", NAME)
    dist_info = f"{NAME}-{version}.dist-info"
    files = []  # (path in the wheel, bytes, mode)
    for name in sorted(os.listdir(source)):
        if name.startswith(".") or name == "__pycache__":
            continue
        with open(os.path.join(source, name), "rb") as f:
            data = f.read()
        if name == "__init__.py":
            data = data.replace(b'__version__ = "0.0.0"', f'__version__ = "{version}"'.encode())
        files.append((f"{NAME}/{name}", data, 0o644))
    with open(binary, "rb") as f:
        files.append((f"{NAME}-{version}.data/scripts/callerid-mock", f.read(), 0o755))
    with open(os.path.join(root, "packages", "python", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: callerid-mock\nVersion: {version}\n"
        "Summary: A local, stateful emulator of phone providers' caller-ID verification APIs, with a pytest plugin\n"
        "Requires-Python: >=3.8\n"
        "Provides-Extra: testcontainers\n"
        'Requires-Dist: testcontainers>=4.8; extra == "testcontainers"\n'
        "Classifier: Framework :: Pytest\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Topic :: Software Development :: Testing :: Mocking\n"
        "Description-Content-Type: text/markdown\n\n" + readme
    )
    files.append((f"{dist_info}/METADATA", metadata.encode(), 0o644))
    wheel = f"Wheel-Version: 1.0\nGenerator: callerid-mock scripts/build-wheel.py\nRoot-Is-Purelib: false\nTag: {TAG}\n"
    files.append((f"{dist_info}/WHEEL", wheel.encode(), 0o644))
    files.append((f"{dist_info}/entry_points.txt", b"[pytest11]\ncallerid_mock = callerid_mock.pytest_plugin\n", 0o644))
    record = []
    for path, data, _ in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, f"{NAME}-{version}-{TAG}.whl")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
