"""The claims of the image-translation and image-GAN recipes (``recipes._claims``),
joined into ``_claims_table.CLAIMS``: the thesis talk's translation honesty, PuppetGAN
and RIFT (issues 12-14) and the leaking augmentation (issue 16)."""

from __future__ import annotations

from unpaired.recipes._claims import Claim, RecipeClaims, at_least, at_most, holds, less

TRANSLATION_CLAIMS: dict[str, RecipeClaims] = {
    "cyclegan-maps": RecipeClaims(
        "Thesis talk 'Translation Honesty' (Bashkirova et al. 2019): CycleGAN hides a "
        "signal in its maps; noise and a guess discriminator take it away at equal "
        "segmentation quality",
        (
            holds(
                "a defended variant: RH and SN(0.05) >= 3x lower than CycleGAN's, "
                "acc / IoU segm within 0.01",
                ("goals", "any_defended_3x_lower_at_equal_segm"),
                source="issue 12",
            ),
            at_least(
                "guess + noise: CycleGAN's RH / its RH",
                ("goals", "guess-noise", "rh_ratio"),
                3.0,
                paper=27.43 / 6.1,  # GTA V: CycleGAN RH 27.43, guess + noise 6.1
                source="issue 12",
            ),
            at_least(
                "noise: CycleGAN's SN(0.05) / its SN(0.05)",
                ("goals", "noise", "sn_0.05_ratio"),
                3.0,
                paper=446.9 / 94.2,  # GTA V: CycleGAN SN 446.9, + noise 94.2
                source="issue 12",
            ),
            at_most(
                "guess + noise: acc segm below CycleGAN's by",
                ("goals", "guess-noise", "acc_drop"),
                0.01,
                source="issue 12",
            ),
            less(
                "CycleGAN reconstructs detail the map does not hold (photo cycle error "
                "below the honest class-colour bound): there is a signal to hide",
                ("mean", "cyclegan", "cycle_a"),
                ("honest_cycle_error_bound",),
                source="ours",
            ),
        ),
        curve="eval/rh",
        curve_ref="the talk's RH table",
        curve_label="RH on the validation photos (hidden signal; lower is more honest)",
    ),
    "gan-augment": RecipeClaims(
        "Thesis talk 'leaking augmentation': a critic-side rot90 with probability p leaks "
        "into the generator past the predicted p = 0.75; a Gaussian brightness never leaks",
        (
            less(
                "leak rate: no augmentation below rot90 p = 1",
                ("cases", "rot90 p=0.0", "leak_rate"),
                ("cases", "rot90 p=1.0", "leak_rate"),
                source="issue 16",
            ),
            less(
                "leak rate: rot90 p = 0.5 (below the threshold) below p = 1",
                ("cases", "rot90 p=0.5", "leak_rate"),
                ("cases", "rot90 p=1.0", "leak_rate"),
                source="issue 16",
            ),
            less(
                "leak rate: brightness (never leaks) below rot90 p = 1",
                ("cases", "brightness sigma=0.3 p=1", "leak_rate"),
                ("cases", "rot90 p=1.0", "leak_rate"),
                source="issue 16",
            ),
        ),
    ),
    "cyclegan-digits": RecipeClaims(
        "Thesis talk 'Translation Honesty' on MNIST <-> USPS: a defended CycleGAN preserves "
        "the class at least as well as CycleGAN",
        (
            holds(
                "the best defended variant keeps the class at least as well as CycleGAN",
                ("goals", "defended_keeps_class_at_least_as_well"),
                source="issue 12",
            ),
            at_least(
                "guess + noise: class kept minus CycleGAN's (both directions)",
                ("goals", "kept_guess-noise_minus_cyclegan"),
                0.0,
                source="issue 12",
            ),
        ),
    ),
    "rift-shapes": RecipeClaims(
        "RIFT on 3D Shapes: guided translation keeps shared factors and takes the "
        "guide's specific ones (ACC 88, RD 6 in the paper), above every baseline",
        (
            at_least(
                "RIFT: ACC over factors, splits and directions (%)",
                ("summaries", "rift", "acc"),
                85.0,
                paper=88.0,
                source="issue 14",
            ),
            at_most(
                "RIFT: RD, shared vs specific role discrepancy (%)",
                ("summaries", "rift", "rd"),
                10.0,
                paper=6.0,
                source="issue 14",
            ),
            holds(
                "RIFT's ACC above every baseline's (all splits)",
                ("goals", "rift_above_every_baseline"),
                source="issue 14",
            ),
        ),
    ),
    "puppet-digits": RecipeClaims(
        "PuppetGAN (ICCV 2019) Table 2: change one attribute of real digits from synthetic "
        "references; CycleGAN changes everything, MUNIT not the attribute",
        (
            Claim(
                "PuppetGAN keeps the class better than CycleGAN (Acc)",
                ("scores", "PuppetGAN", "Acc"),
                ">",
                ("scores", "CycleGAN (reference translated to real)", "Acc"),
                source="issue 13 (paper: 0.97 / 0.73 vs 0.10)",
            ),
            Claim(
                "PuppetGAN changes the attribute more than MUNIT (r_attr)",
                ("scores", "PuppetGAN", "r_attr"),
                ">",
                ("scores", "MUNIT (style of the reference)", "r_attr"),
                source="issue 13 (paper: 0.40 / 0.85 vs 0.00-0.06)",
            ),
            Claim(
                "the attribute cycles help: PuppetGAN's r_attr above the ablation's",
                ("scores", "PuppetGAN", "r_attr"),
                ">",
                ("scores", "PuppetGAN without attribute cycles (d)", "r_attr"),
                source="issue 13",
            ),
        ),
    ),
}
