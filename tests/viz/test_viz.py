"""viz: every figure writes a PNG, atomically, without pyplot or a backend choice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import unpaired
from unpaired.data.synthetic.scenes import street_pair_set
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.viz.curves import plot_curves
from unpaired.viz.flow import flow_to_rgb
from unpaired.viz.images import image_grid, plot_sweep
from unpaired.viz.sfm import plot_depth_and_flow
from unpaired.viz.skeleton import plot_skeletons

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG and not list(path.parent.glob(".*.tmp"))


def test_plotting_code_uses_the_object_api_only() -> None:
    """No ``pyplot`` (global figure state) and no ``matplotlib.use`` (a backend chosen at
    import) in the figure code, the method packages or the report."""
    src = Path(unpaired.__file__).parent
    files = [*(src / "viz").glob("*.py"), *(src / "aign").glob("*.py"), src / "report.py"]
    files += [*(src / "evaluation").glob("*.py")]
    for f in files:
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                assert not any("pyplot" in n for n in names), f"{f} imports pyplot"
            if isinstance(node, ast.Attribute) and node.attr == "use":
                assert getattr(node.value, "id", "") != "matplotlib", f"{f} calls matplotlib.use"


def test_curves_panels_labels_and_reference_lines(tmp_path: Path) -> None:
    hist = {
        "a": [{"step": 1, "eval/x": 1.0, "eval/y": 0.1}, {"step": 2, "eval/x": 0.5}],
        "b": [{"step": 1, "eval/x": 2.0}],
    }
    out = plot_curves(
        hist,
        tmp_path / "sub" / "c.png",
        keys=["eval/y", "eval/x", "eval/missing"],
        labels={"eval/x": "x error"},
        hlines={"eval/y": 0.0},
        title="t",
    )
    assert out == tmp_path / "sub" / "c.png" and _is_png(out)
    assert plot_curves(hist, tmp_path / "none.png", keys=["nothing"]) is None
    assert not (tmp_path / "none.png").exists()


def test_image_grid_and_sweep(tmp_path: Path) -> None:
    rows = [("grey", torch.rand(3, 1, 8, 8)), ("rgb", torch.rand(2, 3, 8, 8))]
    assert _is_png(image_grid(tmp_path / "g.png", rows, title="grid"))
    with pytest.raises(ValueError, match="rows\\['bad'\\]"):
        image_grid(tmp_path / "bad.png", [("bad", torch.rand(8, 8))])
    out = plot_sweep(
        tmp_path / "s.png",
        [0.0, 0.01, 0.1],
        {"val": [30.0, 29.0, 25.0], "test": [31.0, None, 24.0]},
        {"val": [0.0, 0.5, 0.9], "test": [0.1, 0.4, 1.0]},
        labels=("PSNR", "bias"),
        xlabel="beta",
        chosen=0.01,
        floor=28.0,
    )
    assert _is_png(out)


def test_flow_colours() -> None:
    flow = torch.zeros(2, 2, 3)
    flow[0, 0, 0] = 4.0  # rightwards, full magnitude
    rgb = flow_to_rgb(flow, 2.0)
    assert rgb.shape == (2, 3, 3)
    torch.testing.assert_close(rgb[0, 0], torch.tensor([1.0, 0.0, 0.0], dtype=rgb.dtype))
    assert rgb[1, 1].abs().max() == 0  # no motion: black
    with pytest.raises(ValueError, match="max_norm"):
        flow_to_rgb(flow, 0.0)


def test_skeletons_and_sfm_figures(tmp_path: Path) -> None:
    poses = sample_poses(6, generator=torch.Generator().manual_seed(0))
    camera = poses - poses[:, :1]
    out = plot_skeletons(
        tmp_path / "sk.png", {"model": camera + 0.01, "other": camera}, camera, [0, 3]
    )
    assert _is_png(out)
    pairs = street_pair_set([3], n_frames=4, height=16, width=48)
    pred = {"m": (pairs.depth.log() + 0.1, pairs.motion)}
    assert _is_png(plot_depth_and_flow(tmp_path / "sfm.png", pairs, [0, 2], pred, title="t"))
