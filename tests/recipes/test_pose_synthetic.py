"""pose-synthetic and the shared pose-lifting ladder (``unpaired.recipes._pose``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from unpaired.data.pose2d import CameraDistribution
from unpaired.data.skeleton import SYMMETRIC_PAIRS, bone_lengths
from unpaired.data.synthetic.skeletons import STYLES, sample_poses
from unpaired.models.pose import LiftingGenerator, PoseBasis
from unpaired.recipes._pose import (
    LABELS,
    Ladder,
    LiftingTask,
    Memories,
    PairedViews,
    make_prior,
    make_test_set,
    reproject,
    retarget,
)
from unpaired.recipes.runner import run_recipe
from unpaired.renderers.projection import unproject


def _poses(n: int, seed: int = 0) -> torch.Tensor:
    return sample_poses(n, generator=torch.Generator().manual_seed(seed))


def test_paired_views_are_deterministic_root_relative_and_split_by_rank() -> None:
    source = PairedViews(_poses(200), batch_size=8, cameras=CameraDistribution())
    one = source.sample(torch.Generator().manual_seed(5), world_size=2)
    again = source.sample(torch.Generator().manual_seed(5), world_size=2)
    torch.testing.assert_close(one, again)
    assert one["x"].shape == (8, 17, 2) and one["pose"].shape == (8, 17, 3)
    torch.testing.assert_close(one["pose"][:, 0], torch.zeros(8, 3))
    assert torch.all((one["depth"] > 3.0) & (one["depth"] < 7.0))
    other = source.sample(torch.Generator().manual_seed(5), rank=1, world_size=2)
    assert not torch.allclose(one["x"], other["x"])


def test_memories_are_aligned_training_poses_with_jittered_bones() -> None:
    data = _poses(50)
    plain = Memories(data, batch_size=16).sample(torch.Generator().manual_seed(0))
    torch.testing.assert_close(plain[:, 0], torch.zeros(16, 3))
    hips = plain[:, 4] - plain[:, 1]  # left minus right hip: along +x after alignment
    assert torch.all(hips[:, 0] > 0) and hips[:, 2].abs().max() < 1e-5
    jittered = Memories(data, batch_size=16, length_std=0.05).sample(
        torch.Generator().manual_seed(0)
    )
    ratio = bone_lengths(jittered) / bone_lengths(plain)
    assert 0.01 < float((ratio - 1).abs().mean()) < 0.1


def test_retarget_scales_twin_bones_alike_and_keeps_the_root() -> None:
    data = _poses(30)
    moved = retarget(data, std=0.1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(moved[:, 0], data[:, 0])
    factor = bone_lengths(moved) / bone_lengths(data)
    torch.testing.assert_close(factor, factor[:1].expand_as(factor))  # one body for all poses
    for left, right in SYMMETRIC_PAIRS:
        assert math.isclose(float(factor[0, left - 1]), float(factor[0, right - 1]), rel_tol=1e-5)
    assert float(factor.std()) > 0.01


def test_perfect_prediction_has_zero_reconstruction_and_paired_loss() -> None:
    data = _poses(40)
    test = make_test_set(
        {"a": data[:20], "b": data[20:]},
        cameras=CameraDistribution(principal_jitter=0.0),
        noise=(5.0, 0.05),
        generator=torch.Generator().manual_seed(2),
    )
    assert test.take_names == ("a", "b") and test.take.tolist() == [0] * 20 + [1] * 20
    assert not torch.allclose(test.exact, test.noisy)
    view = PairedViews(data, batch_size=20, cameras=CameraDistribution(principal_jitter=0.0))
    paired = view.sample(torch.Generator().manual_seed(3))
    root = unproject(paired["x"][:, :1], paired["depth"][:, None], paired["focal"], 500.0)
    truth = {
        "pose_3d": paired["pose"] + root,
        "focal": paired["focal"],
        "principal": torch.full((20, 2), 500.0),
    }
    rendered = reproject(truth, {"x": paired["x"]})
    torch.testing.assert_close(rendered.rendered, rendered.target, atol=1e-4, rtol=0)


def test_lifting_task_losses_by_stage() -> None:
    data = _poses(300)
    cfg = Ladder(hidden=16, critic_hidden=16)
    x = make_test_set(
        {"t": data[:32]},
        cameras=CameraDistribution(),
        noise=(5.0, 0.05),
        generator=torch.Generator().manual_seed(4),
    )
    paired = PairedViews(data, batch_size=16, cameras=CameraDistribution())
    g = torch.Generator().manual_seed(5)
    batch = {
        "x": x.exact[:16],
        "paired": paired.sample(g),
        "memories": {"pose": Memories(data, batch_size=16).sample(g)},
    }

    def task(**kw) -> LiftingTask:
        gen = LiftingGenerator(PoseBasis.fit(data), hidden=16, blocks=1)
        return LiftingTask(gen, eval_inputs=x.exact, eval_target=x.target, **kw)

    assert set(task().generator_losses(batch)) == {"supervised/pose", "supervised/camera"}
    interp = task(recon_weight=1.0).generator_losses(batch)
    assert set(interp) == {"reconstruction", "supervised/pose", "supervised/camera"}
    aign = task(recon_weight=1.0, beta=0.1, priors={"pose": make_prior("logistic", cfg)})
    assert "prior/pose" in aign.generator_losses(batch)
    assert set(aign.critic_losses(batch)) == {"prior/pose"}
    assert aign.critic_parameters() and all(
        id(p) not in {id(q) for q in aign.critic_parameters()} for p in aign.generator_parameters()
    )
    metrics = aign.evaluate()
    assert set(metrics) == {"torso", "mpjpe", "p_mpjpe", "n_mpjpe", "reproj_px"}
    assert all(math.isfinite(v) for v in metrics.values())
    for kind in ("mmd", "dual"):
        other = task(recon_weight=1.0, beta=0.1, priors={"pose": make_prior(kind, cfg)})
        loss = other.generator_losses(batch)["prior/pose"]
        assert math.isfinite(loss.item()) and not other.critic_parameters()


@pytest.mark.slow
def test_pose_synthetic_runs_the_ladder(tmp_path: Path) -> None:
    outcome = run_recipe(
        "pose-synthetic",
        out=tmp_path,
        overrides={
            "n_train": 400,
            "n_test_per_style": 20,
            "settings": ("exact",),
            "extra_priors": (),
            "ladder.hidden": 32,
            "ladder.batch_size": 64,
            "ladder.supervised.steps": 40,
            "ladder.finetune.steps": 30,
            "ladder.finetune.lr": 1e-3,
            "ladder.finetune.critic_lr": 1e-3,
        },
        threads=1,
        progress=False,
    )
    assert outcome.status == "completed" and outcome.report is not None
    table = outcome.report.tables[0]
    assert table.columns[1 : 1 + len(STYLES)] == list(STYLES)
    models = ("martinez", "forward2dto3d", "interpreter", "aign")
    assert [r[0] for r in table.rows] == [LABELS[m] for m in models]
    scores = outcome.report.metrics["exact"]["models"]
    assert all(math.isfinite(scores[m]["torso"]) for m in models)
    # Sup3 at work: finetuning on the test 2D fits it better than the supervised model.
    assert scores["interpreter"]["reproj_px"] < scores["forward2dto3d"]["reproj_px"]
    assert scores["martinez"]["reproj_px"] is None
    ratio = outcome.report.metrics["exact"]["ratios"]
    assert set(ratio) == {"aign_over_interpreter", "aign_over_forward2dto3d", "ordering_holds"}
    assert (tmp_path / "figures" / "skeletons_exact.png").is_file()
    assert (tmp_path / "checkpoints" / "exact-aign" / "last.pt").is_file()
