"""How capdsl names families, GPUs and architectures across providers.

Plans filter catalogs with ``families = [...]`` globs that match either the family or the
instance type (``CatalogQuery.matches``), so the family must be what people call it:

- AWS: the part before the first dot: ``c7g.2xlarge`` -> ``c7g``, ``p6-b200.48xlarge`` ->
  ``p6-b200``, ``u-6tb1.56xlarge`` -> ``u-6tb1``.
- GCP: the machine series and class, without the size: ``n2-standard-8`` -> ``n2-standard``,
  ``a2-highgpu-1g`` -> ``a2-highgpu``, ``c3-standard-4-lssd`` -> ``c3-standard``; shared-core
  types without a size keep their series: ``e2-medium`` -> ``e2``, ``f1-micro`` -> ``f1``.
- Azure: the size series as Microsoft writes it: series letters, feature letters, the
  accelerator (if any) and the version, without the size number: ``Standard_D8s_v5`` ->
  ``Dsv5``, ``Standard_E96_v5`` -> ``Ev5``, ``Standard_M16-4ms`` -> ``Mms``,
  ``Standard_NC24ads_A100_v4`` -> ``NCads_A100_v4``, ``Standard_F2`` -> ``F``.

GPU models are lower-case base names (``a100``, ``h100``, ``l4``, ``a10g``); the memory
variant goes to ``gpu_memory_gib`` (``A100-80GB`` -> ``a100`` with 80 GiB per GPU).
"""

from __future__ import annotations

import re

_GCP_SIZE = re.compile(r"^\d")
_AZURE_SIZE = re.compile(
    r"^(?:Standard_|Basic_)?(?P<series>[A-Z]+)(?P<size>\d+)(?:-\d+)?(?P<features>[a-z]*)"
    r"(?:_(?!v\d+(?:_|$))(?P<accel>[A-Za-z0-9]+?))?(?:_(?P<version>v\d+))?(?P<promo>_Promo)?$"
)

# Memory per GPU (GiB) of GPU models whose sources do not say it (Azure's catalog gives only
# the model name). Public vendor specifications.
GPU_MEMORY_GIB: dict[str, float] = {
    "a10": 24,
    "a10g": 24,
    "a100": 40,
    "b200": 180,
    "h100": 80,
    "h200": 141,
    "l4": 24,
    "l40s": 48,
    "m60": 8,
    "mi25": 16,
    "mi300x": 192,
    "p100": 16,
    "p4": 8,
    "t4": 16,
    "v100": 16,
    "v620": 32,
}


def aws_family(instance_type: str) -> str:
    """``c7g.2xlarge`` -> ``c7g``."""
    return instance_type.split(".", 1)[0]


def gcp_family(machine_type: str) -> str:
    """``n2-standard-8`` -> ``n2-standard``; ``e2-medium`` -> ``e2``."""
    parts = machine_type.split("-")
    for i, part in enumerate(parts):
        if i > 0 and _GCP_SIZE.match(part):
            return "-".join(parts[:i])
    return parts[0]


def azure_family(size: str) -> str:
    """``Standard_D8s_v5`` -> ``Dsv5``; unknown shapes fall back to the name without prefix."""
    m = _AZURE_SIZE.match(size)
    if m is None:
        return size.removeprefix("Standard_").removeprefix("Basic_")
    fam = m["series"] + m["features"]
    if m["accel"]:
        fam += "_" + m["accel"] + ("_" + m["version"] if m["version"] else "")
    elif m["version"]:
        fam += m["version"]
    return fam


def azure_arch(size: str) -> str:
    """Arm64 sizes carry the feature letter ``p`` (``D4ps_v5``, ``E8pds_v6``, ``B2pts_v2``)."""
    m = _AZURE_SIZE.match(size)
    return "arm64" if m is not None and "p" in m["features"] else "x86_64"


def gpu_model(name: str | None) -> tuple[str | None, float | None]:
    """Normalise a source's GPU name: ``A100-80GB`` -> (``a100``, 80.0); ``H100-MEGA`` ->
    (``h100``, None); ``Radeon Pro V520`` -> (``radeon-pro-v520``, None)."""
    if not name:
        return None, None
    text = name.strip().lower().replace(" ", "-")
    memory: float | None = None
    m = re.match(r"^(.*?)-(\d+)gb$", text)
    if m:
        text, memory = m.group(1), float(m.group(2))
    text = text.removeprefix("nvidia-").removeprefix("tesla-")
    text = re.sub(r"-(mega|sxm\d?|pcie)$", "", text)
    return text, memory
