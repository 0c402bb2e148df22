"""Copy the JavaScript the web pages use from npm into ``src/commonweal/web/static/vendor/``.

The versions are pinned in ``package.json`` and ``package-lock.json`` at the repository root.
This script runs ``npm ci --ignore-scripts`` in a temporary directory (so no ``node_modules``
appears in the tree), copies the files listed in ``FILES`` plus each package's licence, and writes
``MANIFEST.json`` (package, version, licence, file, SHA-256). The output is committed: building
and installing commonweal needs no Node and running it needs no internet.

    python scripts/vendor_js.py            # re-vendor
    python scripts/vendor_js.py --check    # exit 1 if the committed files differ (for CI)
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "commonweal" / "web" / "static" / "vendor"

# npm package -> (file inside the package, name under static/vendor/). The licence is added.
FILES: dict[str, list[tuple[str, str]]] = {
    "htmx.org": [("dist/htmx.min.js", "htmx.min.js")],
    "cytoscape": [("dist/cytoscape.min.js", "cytoscape.min.js")],
    "leaflet": [
        ("dist/leaflet.js", "leaflet.js"),
        ("dist/leaflet.css", "leaflet.css"),
        ("dist/images/marker-icon.png", "images/marker-icon.png"),
        ("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
        ("dist/images/marker-shadow.png", "images/marker-shadow.png"),
    ],
    "leaflet.markercluster": [
        ("dist/leaflet.markercluster.js", "leaflet.markercluster.js"),
        ("dist/MarkerCluster.css", "MarkerCluster.css"),
        ("dist/MarkerCluster.Default.css", "MarkerCluster.Default.css"),
    ],
    "topojson-client": [("dist/topojson-client.min.js", "topojson-client.min.js")],
    # US county boundaries (Census cartographic boundary files, 1:10m), TopoJSON, ISC
    "us-atlas": [("counties-10m.json", "us-atlas/counties-10m.json")],
}
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license", "MIT-LICENCE.txt")


def _npm_ci(workdir: Path) -> Path:
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, workdir / name)
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found: install Node.js to re-vendor (only maintainers need this)")
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return workdir / "node_modules"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor(out: Path) -> None:
    """Install the pinned packages in a temporary directory and copy their files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="cw-vendor-") as tmp:
        modules = _npm_ci(Path(tmp))
        for package, files in FILES.items():
            pkg_dir = modules / package
            meta = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
            version, licence = meta["version"], meta.get("license", "see licence file")
            for src, dest in files:
                (out / dest).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(pkg_dir / src, out / dest)
                manifest.append(
                    {
                        "package": package,
                        "version": version,
                        "license": licence,
                        "file": dest,
                        "sha256": _sha256(out / dest),
                    }
                )
            lic = next((pkg_dir / n for n in LICENCE_NAMES if (pkg_dir / n).exists()), None)
            if lic is None:
                sys.exit(f"{package} ships no licence file; add its name to LICENCE_NAMES")
            stem = package.replace("/", "-").replace("@", "")
            shutil.copy2(lic, out / f"{stem}.LICENSE.txt")
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="re-vendor into a temporary directory and compare with the committed files",
    )
    args = parser.parse_args()
    if not args.check:
        vendor(VENDOR)
        print(f"vendored into {VENDOR.relative_to(ROOT)}")
        return 0
    with tempfile.TemporaryDirectory(prefix="cw-vendor-check-") as tmp:
        fresh = Path(tmp) / "vendor"
        vendor(fresh)
        ours, theirs = _files(fresh), _files(VENDOR)
        bad = sorted(ours ^ theirs) + sorted(
            f for f in ours & theirs if not filecmp.cmp(fresh / f, VENDOR / f, shallow=False)
        )
        if bad:
            print("vendored files differ from package.json/package-lock.json: " + ", ".join(bad))
            return 1
    print("vendored files match the lockfile")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
