from __future__ import annotations

import pytest
import torch

from unpaired.data.synthetic.font_digits import (
    ATTRIBUTES,
    FONTS,
    Ranges,
    font_dir,
    render,
    render_triplets,
    sample_attributes,
    with_attribute,
)
from unpaired.errors import ConfigError
from unpaired.metrics.manipulation import measure_rotation, measure_size


@pytest.fixture(scope="module")
def attrs() -> dict[str, torch.Tensor]:
    return sample_attributes(300, generator=torch.Generator().manual_seed(3))


def test_fonts_ship_with_matplotlib_and_images_are_in_range(attrs) -> None:
    assert all((font_dir() / f).is_file() for f in FONTS)
    x = render(attrs)
    assert x.shape == (300, 1, 32, 32) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1
    assert (x.flatten(1).amax(1) == 1).all()  # every digit has full ink
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], -1)
    touching = (border.flatten(1).amax(1) > 0.5).float().mean()
    assert touching < 0.03  # the default ranges keep nearly every digit inside the frame
    assert render(attrs, resolution=48).shape == (300, 1, 48, 48)


def test_rendering_is_deterministic_and_each_attribute_changes_the_image(attrs) -> None:
    x = render(attrs)
    assert torch.equal(x, render(attrs))
    first = {k: v[:1] for k, v in attrs.items()}
    for k, other in [
        ("digit", 1),
        ("font", 1),
        ("rotation", 20.0),
        ("size", 0.7),
        ("stroke", 0.4),
        ("dx", 1.0),
        ("dy", 1.0),
    ]:
        base = with_attribute(
            first, **{k: 0 if k in ("digit", "font") else 0.6 if k == "size" else 0.0}
        )
        moved = with_attribute(first, **{k: other})
        assert (render(base) - render(moved)).abs().max() > 0.3, k


def test_rotation_is_exact_by_image_moments(attrs) -> None:
    """Moment orientation of a digit rotated by t, minus that of the same digit upright,
    is t: median error under 0.5 degrees, 90% under 1.5 (sampled rotations +-45)."""
    up = measure_rotation(render(with_attribute(attrs, rotation=0.0)))
    err = measure_rotation(render(attrs)) - up - attrs["rotation"]
    err = torch.remainder(err + 90, 180) - 90
    assert err.abs().median() < 0.5 and err.abs().quantile(0.9) < 1.5
    # the sign convention: counter-clockwise on screen is positive
    bar = {k: v[:1] for k, v in with_attribute(attrs, digit=1, font=4, rotation=30.0).items()}
    assert (
        25
        < float(
            measure_rotation(render(bar))
            - measure_rotation(render(with_attribute(bar, rotation=0.0)))
        )
        < 35
    )


def test_size_scales_the_moment_size_exactly(attrs) -> None:
    ref = measure_size(render(with_attribute(attrs, size=0.65, stroke=0.0)))
    got = measure_size(render(with_attribute(attrs, stroke=0.0)))
    ratio = got / ref / (attrs["size"] / 0.65)
    assert (ratio - 1).abs().median() < 0.01


def test_triplets_share_what_they_must() -> None:
    for aoi, key in [("rotation", "rotation"), ("size", "size")]:
        b1, b2, b3, a = render_triplets(16, aoi, generator=torch.Generator().manual_seed(0))
        assert b1.shape == b2.shape == b3.shape == (16, 1, 32, 32)
        assert torch.equal(a["b3"][key], a["b1"][key])
        for k in ATTRIBUTES:
            if k != key:
                assert torch.equal(a["b3"][k], a["b2"][k]), k
        assert torch.equal(b3, render(a["b3"]))
        assert not torch.equal(b3, b2) and not torch.equal(b3, b1)


def test_bad_values_fail_clearly() -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ConfigError, match="aoi"):
        render_triplets(2, "stroke", generator=g)
    with pytest.raises(ConfigError, match="rotation range"):
        Ranges(rotation=(10.0, -10.0))
    with pytest.raises(ConfigError, match="fonts"):
        sample_attributes(2, generator=g, fonts=0)
    with pytest.raises(ValueError, match="missing"):
        render({"digit": torch.zeros(2, dtype=torch.long)})
