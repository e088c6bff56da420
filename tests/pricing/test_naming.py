"""Family names as plans write them."""

from __future__ import annotations

import pytest

from capdsl.pricing.naming import aws_family, azure_arch, azure_family, gcp_family, gpu_model


@pytest.mark.parametrize(
    ("itype", "family"),
    [("c7g.2xlarge", "c7g"), ("p6-b200.48xlarge", "p6-b200"), ("u-6tb1.56xlarge", "u-6tb1")],
)
def test_aws(itype: str, family: str) -> None:
    assert aws_family(itype) == family


@pytest.mark.parametrize(
    ("machine", "family"),
    [
        ("n2-standard-8", "n2-standard"),
        ("a2-highgpu-1g", "a2-highgpu"),
        ("c3-standard-4-lssd", "c3-standard"),
        ("e2-medium", "e2"),
        ("m1-ultramem-40", "m1-ultramem"),
    ],
)
def test_gcp(machine: str, family: str) -> None:
    assert gcp_family(machine) == family


@pytest.mark.parametrize(
    ("size", "family", "arch"),
    [
        ("Standard_D8s_v5", "Dsv5", "x86_64"),
        ("Standard_E96_v5", "Ev5", "x86_64"),
        ("Standard_M16-4ms", "Mms", "x86_64"),
        ("Standard_NC24ads_A100_v4", "NCads_A100_v4", "x86_64"),
        ("Standard_D4pls_v5", "Dplsv5", "arm64"),
        ("Standard_F2", "F", "x86_64"),
        ("Standard_D2_v2_Promo", "Dv2", "x86_64"),
    ],
)
def test_azure(size: str, family: str, arch: str) -> None:
    assert azure_family(size) == family
    assert azure_arch(size) == arch


def test_gpu_names() -> None:
    assert gpu_model("A100-80GB") == ("a100", 80.0)
    assert gpu_model("H100-MEGA") == ("h100", None)
    assert gpu_model("Radeon Pro V520") == ("radeon-pro-v520", None)
    assert gpu_model("") == (None, None)
