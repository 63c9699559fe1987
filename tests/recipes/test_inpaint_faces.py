"""inpaint-faces: the face box hides the intended region (end to end:
test_image_recipes.py)."""

from __future__ import annotations

from unpaired.recipes import _images
from unpaired.recipes.inpaint_faces import Config


def test_default_face_box_hides_part_of_the_lower_face() -> None:
    m = _images.inpainting(Config().box, 64).renderer.visible[0, 0]
    hidden = (m == 0).nonzero()
    assert 0.03 < len(hidden) / m.numel() < 0.5
    assert hidden[:, 0].min() >= 24  # below the eyes
