"""``unpaired predict`` for guided translators: images and one guide image per input.

A network of kind ``"guided"`` maps ``(x, guide)`` to an image: StarGAN v2 and RIFT with
a guide (an example of the target domain), MUNIT with a guide's style, PuppetGAN and
Cycle-VAE (``x`` a real image, ``guide`` the synthetic reference whose attribute it
takes). ``--guide`` is one image (the guide of every input) or a folder, paired with the
inputs **by name** when every input has a guide of the same relative path and stem (any
image extension), else **by sorted order** when both hold the same number of images (the
sorted relative paths, as :func:`~unpaired.data.images.list_images` lists them); any other
folder is an error naming both counts.

The outputs are PNGs of the inputs' relative names. Values are in [0, 1] in the files; the
network's range (``meta["range"]``, [-1, 1] for translators) is converted to and from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from unpaired.data.images import list_images
from unpaired.engine.records import LoadedModel
from unpaired.errors import DataError
from unpaired.inference._imagefiles import PngWriter, out_paths, read_unit, stack_unit
from unpaired.inference._output import Bar

__all__ = ["pair_guides", "predict_guided"]


def _stem_key(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def pair_guides(files: list[Path], root: Path, guide: Path) -> tuple[list[Path], str]:
    """(the guide of each input file, how they were paired: ``"one guide"``, ``"by
    name"`` or ``"by sorted order"``); see the module docstring."""
    from unpaired.inference.predict import _image_files

    if not guide.exists():
        raise DataError(f"--guide {guide}: no such image or folder")
    if guide.is_file():
        _image_files(guide)  # checks the extension
        return [guide] * len(files), "one guide"
    guides = list(list_images(guide))
    by_name = {_stem_key(p, guide): p for p in guides}
    keys = [_stem_key(p, root) for p in files]
    if all(k in by_name for k in keys):
        return [by_name[k] for k in keys], "by name"
    if len(guides) == len(files):
        return guides, "by sorted order"
    missing = next(k for k in keys if k not in by_name)
    raise DataError(
        f"--guide {guide}: {len(guides)} guide images for {len(files)} inputs, and no guide "
        f"named like input '{missing}'; give one guide image, a folder with a guide of the "
        "same name for every input, or a folder of as many images as inputs (sorted order)"
    )


class _Guides:
    """Reads guides (C, H, W) in [0, 1], checked against the network's meta; a guide
    used for consecutive inputs is read once."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self.channels = int(meta.get("guide_channels") or meta.get("channels") or 3)
        size = meta.get("size")
        self.size = tuple(size) if size is not None else None
        self.like_input = bool(meta.get("guide_like_input", False))
        self._last: tuple[Path, torch.Tensor] | None = None

    def read(self, path: Path, source: Path, shape: tuple[int, ...]) -> torch.Tensor:
        if self._last is not None and self._last[0] == path:
            image = self._last[1]
        else:
            image = stack_unit([read_unit(path, self.channels)])[0]
            self._last = (path, image)
        got = tuple(image.shape[1:])
        need = self.size if self.size is not None else (shape[1:] if self.like_input else None)
        if need is not None and got != tuple(need):
            raise DataError(
                f"{path}: guide of {got[1]}x{got[0]} pixels; this model needs guides of "
                f"{need[1]}x{need[0]} (width x height)"
                + (f", the size of its input {source}" if self.size is None else "")
            )
        return image


def predict_guided(
    model: LoadedModel, key: str, source: Path, out: Path, *, batch_size: int,
    device: torch.device, progress: bool = False, guide: str | Path | None = None, **_: Any,
) -> dict[str, Any]:  # fmt: skip
    """Translate every image of ``source`` guided by its image of ``guide`` into PNGs
    of the same relative names in ``out``."""
    from unpaired.inference.predict import _image_files, _image_setup, _tensor_output, read_images

    if guide is None:
        raise DataError(
            f"network '{key}' of model '{model.name}' is a guided translator: give --guide "
            "IMAGE_OR_FOLDER (an example of the target domain, or the reference)"
        )
    net = model.networks[key]
    channels, size, (lo, hi) = _image_setup(model, key)
    root, files = _image_files(source)
    guides, pairing = pair_guides(files, root, Path(guide))
    of = dict(zip(files, guides, strict=True))
    reader, writer = _Guides(model.meta[key]), PngWriter()
    with Bar("images", len(files), enabled=progress) as bar, torch.inference_mode():
        for paths, x in read_images(files, channels=channels, batch_size=batch_size, size=size):
            g = [reader.read(of[p], p, tuple(x.shape[1:])) for p in paths]
            groups = [list(range(len(paths)))]
            if any(gi.shape != g[0].shape for gi in g):  # guides of several sizes: one by one
                groups = [[i] for i in range(len(paths))]
            for rows in groups:
                xs = (x[rows] * (hi - lo) + lo).to(device)
                gs = (torch.stack([g[i] for i in rows]) * (hi - lo) + lo).to(device)
                y = _tensor_output(net(xs, gs), "output")
                y = (y.float().cpu() - lo) / (hi - lo)
                writer.write(y, out_paths([paths[i] for i in rows], root, out))
            bar.advance(len(paths))
    return {
        "images": len(files),
        "guides": len(set(guides)),
        "pairing": pairing,
        "outputs": [p.relative_to(root).with_suffix(".png").as_posix() for p in files[:3]],
    }
