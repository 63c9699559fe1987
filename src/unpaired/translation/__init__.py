"""Image-to-image translation: unpaired (CycleGAN with self-defense, MUNIT) and paired
(pix2pix, the supervised upper bound). Every translator has
``translate(x, direction="a2b" | "b2a", guide=None)`` on images (N, C, H, W) in [-1, 1]."""

from unpaired.translation.munit import MUNIT
from unpaired.translation.pix2pix import Pix2Pix

__all__ = ["MUNIT", "Pix2Pix"]
