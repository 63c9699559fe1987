"""The claims of the image-translation recipes (``recipes._claims``), joined into
``_claims_table.CLAIMS``: the thesis talk's translation-honesty, PuppetGAN and RIFT
results (issues 12-14)."""

from __future__ import annotations

from unpaired.recipes._claims import RecipeClaims, at_least, at_most, holds

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
        ),
        curve="eval/rh",
        curve_ref="the talk's RH table",
        curve_label="RH on the validation photos (hidden signal; lower is more honest)",
    ),
}
