"""The claims of every recipe (:mod:`unpaired.recipes._claims`): one entry per recipe.

Paths are keys into the run's ``metrics.json["metrics"]`` (what the recipe's
``Report.metrics`` holds). ``source`` says where each goal comes from: the issue that
set it, the paper, or "ours" where this project chose the threshold (docs/REPORTS.md).
"""

from __future__ import annotations

from unpaired.recipes._claims import (
    Claim,
    RecipeClaims,
    at_least,
    at_most,
    holds,
    less,
    ratio,
)
from unpaired.recipes._claims_translation import TRANSLATION_CLAIMS
from unpaired.recipes._metapose_report import metapose_claims


def _pose(paper_ratios: bool, extra: tuple[Claim, ...] = ()) -> tuple[Claim, ...]:
    """AIGN Sec. 3.1 (issue 4): the ordering per setting and the paper's Table 1 ratios."""
    ratios = (
        at_most(
            "exact 2D: AIGN / 3D interpreter (torso-aligned, take mean)",
            ("exact", "ratios", "aign_over_interpreter"),
            0.89,
            paper=79.0 / 88.6,  # AIGN Table 1 average (mm): AIGN 79.0, 3D interpreter 88.6
            source="issue 4 (AIGN Table 1)",
        ),
        at_most(
            "exact 2D: AIGN / Forward2Dto3D",
            ("exact", "ratios", "aign_over_forward2dto3d"),
            0.61,
            paper=79.0 / 128.9,  # AIGN 79.0 mm, Forward2Dto3D 128.9 mm
            source="issue 4 (AIGN Table 1)",
        ),
    )
    return (
        holds(
            "exact 2D: AIGN < 3D interpreter < Forward2Dto3D",
            ("exact", "ratios", "ordering_holds"),
            paper=True,
            source="issue 4 (AIGN Table 1)",
        ),
        holds(
            "noisy 2D: AIGN < 3D interpreter < Forward2Dto3D",
            ("noisy", "ratios", "ordering_holds"),
            paper=True,
            source="issue 4 (AIGN Table 2)",
        ),
        *(ratios if paper_ratios else ()),
        *extra,
    )


def _images(what: str) -> RecipeClaims:
    """AIGN Sec. 3.3 (issue 6): biased memories bias the outputs at >= 28 dB consistency."""
    return RecipeClaims(
        f"AIGN Figs. 5-7: {what}",
        (
            at_least(
                "bias rate at the beta chosen on validation",
                ("test", "biased", "test_bias"),
                0.8,
                source="issue 6",
            ),
            at_least(
                "consistency PSNR of P(G(x)) vs x at that beta [dB]",
                ("test", "biased", "test_psnr"),
                28.0,
                source="issue 6",
            ),
            at_least(
                "unbiased memories: input class kept",
                ("test", "unbiased", "test_keep"),
                0.8,
                source="issue 6",
            ),
            less(
                "parametric decoder less consistent than the renderer [dB]",
                ("test", "parametric_decoder", "test_psnr"),
                ("test", "biased", "test_psnr"),
                source="issue 6 (AIGN Fig. 7)",
            ),
        ),
    )


def _digits_beats_none(space: str, method: str, label: str, key: str = "") -> Claim:
    return Claim(
        f"{space}: {label} beats no alignment (USPS test accuracy)",
        (f"{key or space}/{method}", "test_accuracy"),
        ">",
        (f"{space}/no alignment", "test_accuracy"),
        source="ours",
    )


CLAIMS: dict[str, RecipeClaims] = {
    "metapose-cmu": RecipeClaims(
        "MetaPose (CVPR 2022) H36M table on CMU mocap (subject 03 held out): S1 + S2 <= 0.5x S1 "
        "PMPJPE at 4 views, 0.6x at 2, below bundle adjustment, >= 10x faster",
        metapose_claims(),
    ),
    "metapose-synthetic": RecipeClaims(
        "MetaPose (CVPR 2022) on procedural skeletons: S1 + S2 against S1 and bundle adjustment",
        metapose_claims(),
    ),
    "align-toy": RecipeClaims(
        "Thesis slides 'Stable Alignment using Dual Adversarial Distance': the dual "
        "converges where min-max oscillates",
        (
            ratio(
                "linear dual / linear min-max oscillation (same critic)",
                ("linear-dual", "oscillation"),
                ("linear-minmax", "oscillation"),
                at_most=1.0,
                source="issue 3",
            ),
            ratio(
                "kernel dual / min-max logistic oscillation",
                ("dual-rbf", "oscillation"),
                ("minmax-logistic", "oscillation"),
                at_most=1.0,
                source="issue 3",
            ),
            at_most(
                "linear dual: final error (RMS / spread)",
                ("linear-dual", "final_error"),
                0.1,
                source="recipe threshold",
            ),
        ),
        curve="eval/error",
        curve_ref="thesis slides, dual vs min-max panels",
        curve_label="error: RMS(T(a) - T*(a)) / spread(B), held out",
    ),
    "align-gmm": RecipeClaims(
        "Thesis 'Limitations' slide: the LRMF gradient vanishes as exp(-mu^2) as the sets "
        "move apart; other distances keep theirs",
        (
            ratio(
                "flow LRMF: gradient at the largest mu / its maximum",
                ("gradients", "flow-lrmf", -1),
                ("gradients", "flow-lrmf", "max"),
                at_most=0.01,
                source="ours",
            ),
            ratio(
                "Gaussian LRMF: gradient at the largest mu / its maximum",
                ("gradients", "gaussian-lrmf", -1),
                ("gradients", "gaussian-lrmf", "max"),
                at_least=0.1,
                source="ours",
            ),
            ratio(
                "MMD (median bandwidth): gradient at the largest mu / its maximum",
                ("gradients", "mmd", -1),
                ("gradients", "mmd", "max"),
                at_least=0.1,
                source="ours",
            ),
        ),
    ),
    "gan-dirac": RecipeClaims(
        "Thesis slides 'Solving min-max with 1st order methods is hard' (Mescheder et al. "
        "2018): plain simultaneous GD spirals out of the Dirac-GAN, regularised games "
        "converge at their analytic rates",
        (
            Claim(
                "plain simultaneous GD: measured rate per step (> 1: spirals out)",
                ("rates", "plain-sim", "measured"),
                ">",
                1.0,
                source="issue 16",
            ),
            holds(
                "noise, R1, Roth and the dual converge (measured rate < 1)",
                ("goals", "regularised_converge"),
                source="issue 16",
            ),
            holds(
                "measured rates match the analytic ones (2e-3 relative; noise 5e-3)",
                ("goals", "measured_matches_analytic_2e-3"),
                source="issue 16",
            ),
        ),
    ),
    "align-digits": RecipeClaims(
        "USPS -> MNIST: unpaired alignment of an MNIST classifier's inputs (thesis)",
        (
            _digits_beats_none("embedding", "flow-lrmf", "flow LRMF"),
            _digits_beats_none("pixel", "flow-lrmf", "flow LRMF"),
            _digits_beats_none("pixel", "dual-rbf", "dual adversarial, warp T", "pixel-warp"),
            _digits_beats_none("pixel", "flow-lrmf", "flow LRMF, warp T", "pixel-warp"),
            Claim(
                "embedding: dual adversarial beats min-max adversarial (accuracy)",
                ("embedding/dual-rbf", "test_accuracy"),
                ">",
                ("embedding/adversarial", "test_accuracy"),
                source="ours",
            ),
        ),
    ),
    "pose-synthetic": RecipeClaims(
        "AIGN Sec. 3.1 on procedural skeletons: AIGN < 3D interpreter < Forward2Dto3D",
        _pose(paper_ratios=False),
        curve="eval/torso",
        curve_ref="AIGN Table 1",
        curve_label="torso-aligned error on the test set (mm)",
    ),
    "pose-cmu": RecipeClaims(
        "AIGN Tables 1-2 on CMU mocap (subject 03 held out): AIGN < 3D interpreter < "
        "Forward2Dto3D, ratios 0.89 / 0.61",
        _pose(
            paper_ratios=True,
            extra=(
                ratio(
                    "hardest fold (subject 01 held out): AIGN / Forward2Dto3D",
                    ("loso", "01", "aign"),
                    ("loso", "01", "forward2dto3d"),
                    at_most=0.61,
                    paper=79.0 / 128.9,
                    source="issue 4 (AIGN Table 1)",
                ),
            ),
        ),
        curve="eval/torso",
        curve_ref="AIGN Table 1",
        curve_label="torso-aligned error on the test set (mm)",
    ),
    "sfm-scenes": RecipeClaims(
        "AIGN Sec. 3.2, Table 3 and Fig. 3: self-supervised finetuning cuts the "
        "translation error; IGN diverges while AIGN does not",
        (
            ratio(
                "Pret.+SelfSup / Pretrain translation error",
                ("test", "Pret.+SelfSup", "trl_err"),
                ("test", "Pretrain", "trl_err"),
                at_most=0.5,
                paper=0.1294 / 0.4876,  # AIGN Table 3: Pret.+SelfSup vs Pretrain
                source="issue 5 (AIGN Table 3)",
            ),
            less(
                "Pret.+SelfSup translation error below geometric + oracle scale [m]",
                ("test", "Pret.+SelfSup", "trl_err"),
                ("geometric", "oracle_scale", "trl_err"),
                paper=0.1294,  # AIGN Table 3 (KITTI; geometric 0.4588)
                source="issue 5 (AIGN Table 3)",
            ),
            at_most(
                "AIGN (scratch): final / best depth error",
                ("scratch", "AIGN", "final_over_min"),
                1.1,
                source="issue 5 (AIGN Fig. 3)",
            ),
            Claim(
                "IGN (scratch): final / best depth error (grows)",
                ("scratch", "IGN", "final_over_min"),
                ">",
                1.1,
                source="issue 5 (AIGN Fig. 3)",
            ),
        ),
        curve="eval/depth_log_l1",
        curve_ref="AIGN Fig. 3",
        curve_label="depth error on the test street (mean |log d - log d*|)",
    ),
    "cyclegan-digits": RecipeClaims(
        "Self-defense (Bashkirova et al. 2019) on MNIST <-> USPS: a defended CycleGAN keeps "
        "the digit's class at least as well as CycleGAN",
        (
            holds(
                "best defended variant keeps the class (mean of both ways) >= CycleGAN",
                ("goals", "defended_keeps_class_at_least_as_well"),
                source="issue 12",
            ),
            at_least(
                "CycleGAN + guess + noise minus CycleGAN, class kept (mean of both ways)",
                ("goals", "kept_guess-noise_minus_cyclegan"),
                0.0,
                source="issue 12",
            ),
        ),
    ),
    "sr-faces": _images("identity-biased super-resolution of Olivetti faces"),
    "sr-digits": _images("class-biased super-resolution of digits"),
    "inpaint-faces": _images("identity-biased inpainting of Olivetti faces"),
    "inpaint-digits": _images("class-biased inpainting of digits"),
    **TRANSLATION_CLAIMS,
}
