"""Which classifier should measure face identity in ``sr-faces`` / ``inpaint-faces``?

The bias rate and keep rate of the faces recipes are only as good as the classifier that
reads identities. This trains, on the recipes' own split (``FacesConfig.split``: the classifier
trains on every person's gallery, never on an evaluation image), the two classifiers of
:mod:`unpaired.models.images` with the recipes' training loop (Adam, batch 32, random
shifts) and reports held-out accuracy on

* the sharp 64x64 test faces, and
* the same faces seen through the SR renderer and brought back up (4x average pooling,
  then bilinear upsampling): a smooth image that keeps exactly the input's low
  frequencies, like a consistent super-resolved output.

A classifier that is accurate on sharp faces but not on smooth ones would call every
consistent output "somebody else" and make keep and bias rates meaningless.

    python benchmarks/face_classifier.py [--data-dir DIR] [--seeds 3]

Writes ``benchmarks/results/face_classifier.json`` (median over seeds).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from unpaired.data.augment import random_shift
from unpaired.data.root import data_dir
from unpaired.engine.rng import mix
from unpaired.errors import DataNotFoundError
from unpaired.models.images import ImageClassifier, PixelClassifier
from unpaired.recipes.sr_faces import Config
from unpaired.renderers.downsample import downsample

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "face_classifier.json"
#: name -> (constructor given the training images, steps, random shift in px)
CANDIDATES = {
    "cnn (ImageClassifier w16), 400 steps": (
        lambda x: ImageClassifier(1, num_classes=40, width=16),
        400,
        2,
    ),
    "cnn (ImageClassifier w16), 1500 steps": (
        lambda x: ImageClassifier(1, num_classes=40, width=16),
        1500,
        2,
    ),
    "pixels (PixelClassifier), 400 steps": (
        lambda x: PixelClassifier(64, num_classes=40).fit_standardization(x),
        400,
        1,
    ),
}


def smooth(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 64, 64) -> the 16x16 renderer output upsampled back to 64x64 (bilinear)."""
    return F.interpolate(downsample(images, factor=4), scale_factor=4, mode="bilinear")


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, shift: int) -> float:
    """The recipes' classifier loop; returns the seconds it took."""
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    start = time.perf_counter()
    for _ in range(steps):
        i = torch.randint(len(x), (32,))
        loss = F.cross_entropy(model(random_shift(x[i], shift)), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # the recipes' split at run seed 0 (RunContext.generator("images/faces-split"))
    split = torch.Generator().manual_seed(mix(0, *b"images/faces-split"))
    try:
        data = Config().split(data_dir(args.data_dir), split)
    except DataNotFoundError as e:
        print(f"skipped: {e}")
        return
    x, y = data.classifier_train.images, data.classifier_train.labels
    results = {}
    for name, (make, steps, shift) in CANDIDATES.items():
        runs = []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = make(x)
            seconds = train(model, x, y, steps=steps, shift=shift)
            runs.append(
                {
                    "sharp": accuracy(model, data.test.images, data.test.labels),
                    "smooth": accuracy(model, smooth(data.test.images), data.test.labels),
                    "seconds": seconds,
                }
            )
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{name:40s} sharp {results[name]['sharp']:.3f}  smooth {results[name]['smooth']:.3f}"
            f"  train {results[name]['seconds']:.0f} s",
            flush=True,
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "what": "held-out identity accuracy on the sr-faces test images (median over seeds)",
                "train_images": len(x),
                "test_images": len(data.test),
                "seeds": args.seeds,
                "machine": platform.platform(),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
