"""The data splits of the biased image recipes (``sr-*``, ``inpaint-*``).

Each function takes the data directory and a ``torch.Generator`` (the recipe passes
``ctx.generator(...)``) and returns an :class:`ImageData`: evaluation images stay out of
every training set, and the faces' evaluation people out of every generator's training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from unpaired.data.digits import Labelled, load_digits
from unpaired.data.faces import IMAGES_PER_PERSON, load_olivetti, per_person_split, split_people
from unpaired.errors import ConfigError


@dataclass
class ImageData:
    """The splits of one recipe. ``memory_pool`` holds the unbiased memories; its images
    of class ``memory_class`` are the biased memories. Inputs never show that class."""

    inputs: Labelled  # generator training inputs (their high-res: supervised targets only)
    memory_pool: Labelled
    classifier_train: Labelled  # excludes val and test evaluation images
    val: Labelled  # choose beta here
    test: Labelled  # report here
    num_classes: int
    memory_class: int
    kind: str  # "person" or "digit"

    @property
    def biased_memories(self) -> Labelled:
        return self.memory_pool.where(self.memory_pool.labels == self.memory_class)


def _check_class(k: int, n: int, kind: str) -> None:
    if not 0 <= k < n:
        raise ConfigError(f"memory_class must be a {kind} id in 0..{n - 1}, got {k}")


def faces_data(
    root: str | Path,
    *,
    memory_class: int,
    test_people: int,
    val_people: int,
    memory_people: int,
    gallery: int,
    generator: torch.Generator,
) -> ImageData:
    """Olivetti split by person (:func:`~unpaired.data.faces.split_people`): memory person
    ``memory_class``, test and val people (held out from every generator; ``gallery`` of
    their images train the classifier, the rest are evaluated), memory people (unbiased
    memories) and input people; training sets get their mirror images."""
    images, ids = load_olivetti(root)
    people = int(ids.max()) + 1
    _check_class(memory_class, people, "person")
    groups = (test_people, val_people, memory_people)
    if min(groups) < 1 or sum(groups) > people - 2:
        raise ConfigError(
            f"test_people, val_people and memory_people must be >= 1 and leave at least one "
            f"input person besides person {memory_class} ({people} people), got {groups}"
        )
    if not 1 <= gallery < IMAGES_PER_PERSON:
        raise ConfigError(f"gallery must be in 1..{IMAGES_PER_PERSON - 1}, got {gallery}")
    test_p, val_p, mem_p, in_p = split_people(
        ids, groups, exclude=(memory_class,), generator=generator
    )
    everyone = Labelled(images, ids)

    def of(persons: torch.Tensor) -> Labelled:
        return everyone.where(torch.isin(ids, persons))

    def gallery_and_eval(persons: torch.Tensor) -> tuple[Labelled, Labelled]:
        shown, evaluated = per_person_split(ids, persons, first=gallery, generator=generator)
        return everyone.take(shown), everyone.take(evaluated)

    test_gallery, test = gallery_and_eval(test_p)
    val_gallery, val = gallery_and_eval(val_p)
    memory_pool = of(torch.cat([mem_p, torch.tensor([memory_class])]))
    inputs = of(in_p)
    classifier_train = Labelled.cat(inputs, memory_pool, val_gallery, test_gallery)
    return ImageData(
        inputs=inputs.with_flips(),
        memory_pool=memory_pool.with_flips(),
        classifier_train=classifier_train.with_flips(),
        val=val,
        test=test,
        num_classes=people,
        memory_class=memory_class,
        kind="person",
    )


def digits_data(
    root: str | Path,
    *,
    dataset: Literal["mnist", "usps"],
    memory_class: int,
    n_test: int,
    n_val: int,
    generator: torch.Generator,
) -> ImageData:
    """Digits at 32x32 (:func:`~unpaired.data.digits.load_digits`), split at random by
    image: test, val, and the rest halved into inputs (every class but ``memory_class``)
    and the memory pool; the classifier trains on inputs + pool."""
    _check_class(memory_class, 10, "digit")
    everyone = load_digits(root, dataset)
    n = len(everyone)
    if n_test < 1 or n_val < 1 or n_test + n_val > n - 2:
        raise ConfigError(f"n_test and n_val must be >= 1 and leave training digits (of {n})")
    perm = torch.randperm(n, generator=generator)
    test, val = everyone.take(perm[:n_test]), everyone.take(perm[n_test : n_test + n_val])
    rest = perm[n_test + n_val :]
    inputs, memory_pool = (
        everyone.take(rest[: len(rest) // 2]),
        everyone.take(rest[len(rest) // 2 :]),
    )
    return ImageData(
        inputs=inputs.where(inputs.labels != memory_class),
        memory_pool=memory_pool,
        classifier_train=Labelled.cat(inputs, memory_pool),
        val=val,
        test=test,
        num_classes=10,
        memory_class=memory_class,
        kind="digit",
    )
