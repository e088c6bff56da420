"""The example third-party plugin (docs/plugin-example/capdsl-pricebook), installed with pip
into a fresh virtual environment like anyone's plugin, is discovered and used.

No network: the wheel is assembled here from the example's own pyproject.toml metadata
(the tiny builder below writes exactly what a wheel is: the package, METADATA, WHEEL,
entry_points.txt, RECORD), then ``pip install --no-deps --no-index --no-build-isolation``
installs it. The new venv sees capdsl through ``--system-site-packages`` plus a ``.pth``
line adding this interpreter's site-packages (a venv made from a venv would otherwise see
only the base interpreter's).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import site
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "plugin-example" / "capdsl-pricebook"


def build_wheel(project: Path, out: Path) -> Path:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = meta["name"], meta["version"]
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {
        str(p.relative_to(project / "src")): p.read_bytes()
        for p in sorted((project / "src").rglob("*.py"))
    }
    requires = "".join(f"Requires-Dist: {d}\n" for d in meta.get("dependencies", []))
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {meta['description']}\n{requires}"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: capdsl-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
        for group, eps in meta["entry-points"].items()
    ).encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pluginvenv")
    env_dir = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)],
        check=True,
    )
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "capdsl-parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    )
    wheel = build_wheel(EXAMPLE, root)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ],
        check=True,
    )
    return python


def run(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAPDSL_LOAD_PLUGINS": "aws,azure,gcp,pricebook"}
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_installed_plugin_is_discovered(venv: Path) -> None:
    out = run(venv, "-m", "capdsl.cli", "plugins", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    plugins = {p["name"]: p for p in doc["plugins"]}
    assert plugins["pricebook"]["version"] == "0.1.0"
    assert plugins["pricebook"]["distribution"] == "capdsl-pricebook"
    assert plugins["pricebook"]["registers"] == {"pricing_sources": ["pricebook"]}
    assert doc["failures"] == []


def test_the_example_plugins_own_tests_pass(venv: Path) -> None:
    out = run(
        venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"), cwd=EXAMPLE
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_catalog_reads_the_price_book(venv: Path) -> None:
    out = run(
        venv,
        "-m",
        "capdsl.cli",
        "catalog",
        "--source",
        "pricebook",
        "--file",
        str(EXAMPLE / "dc-prices.csv"),
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {o["instance_type"] for o in doc["offerings"]} == {
        "rack.small",
        "rack.large",
        "rack.gpu",
        "rack.arm",
    }


def test_capdsl_solve_uses_the_price_book(venv: Path, tmp_path: Path) -> None:
    plan = tmp_path / "dc.cap"
    plan.write_text(
        textwrap.dedent(f"""\
        unit request

        plan "private-cloud" {{
          start   = 2027-01
          horizon = 12 months
        }}

        catalog dc from "pricebook" {{
          file = "{EXAMPLE / "dc-prices.csv"}"
        }}

        service api {{
          unit     = request
          baseline = 2000 request/s
          runs on dc.rack.* {{
            throughput = 100 request/s per vcpu
          }}
          redundancy = N+1
        }}
        """)
    )
    out = run(
        venv, "-m", "capdsl.cli", "solve", str(plan), "--format", "json", "--time-limit", "20"
    )
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    result = doc[0] if isinstance(doc, list) else doc
    assert result["status"] in ("optimal", "feasible") and result["verified"] is True
    assert {s["source"] for s in result["sources"]} == {"pricebook"}
    used = {a["offering"] for m in result["months"] for a in m["allocations"]}
    assert used and all(o.startswith("dc.rack.") for o in used)
