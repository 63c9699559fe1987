"""sr-faces: the faces split keeps people apart, the ablation is wired with the recipe's
networks, beta is chosen on validation (end to end: test_image_recipes.py; the tasks:
tests/aign/test_images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unpaired.aign.images import ParametricDecoderAIGN
from unpaired.data.digits import Labelled
from unpaired.errors import ConfigError
from unpaired.evaluation import ImageEvaluator
from unpaired.models.images import ImageClassifier, PixelClassifier
from unpaired.recipes import _images, _images_run
from unpaired.recipes.sr_faces import Config


def _rows(images: torch.Tensor) -> set[bytes]:
    return {bytes(r.numpy().tobytes()) for r in images.flatten(1)}


def _split(shared_data: Path, cfg: Config):
    return cfg.split(shared_data, torch.Generator().manual_seed(0))


def test_faces_split_holds_people_and_evaluation_images_out(shared_data: Path) -> None:
    cfg = Config()
    data = _split(shared_data, cfg)
    k = cfg.memory_class
    inputs, pool = set(data.inputs.labels.tolist()), set(data.memory_pool.labels.tolist())
    val, test = set(data.val.labels.tolist()), set(data.test.labels.tolist())
    assert (len(test), len(val)) == (cfg.test_people, cfg.val_people)
    assert k in pool and k not in inputs | val | test
    assert set(data.biased_memories.labels.tolist()) == {k}
    # no generator ever sees a val or test person; inputs and memories are other people
    assert not (inputs | pool) & (val | test) and not inputs & pool and not val & test
    # the classifier knows every person but never sees an evaluation image
    assert set(data.classifier_train.labels.tolist()) == set(range(40))
    seen = _rows(data.classifier_train.images)
    assert not seen & _rows(data.test.images) and not seen & _rows(data.val.images)
    assert len(data.test) == cfg.test_people * (10 - cfg.gallery)
    # training sets carry their mirror images; evaluation sets do not
    n = len(data.inputs) // 2
    torch.testing.assert_close(data.inputs.images[n:], data.inputs.images[:n].flip(-1))
    with pytest.raises(ConfigError, match=r"gallery must be in 1\.\.9"):
        _split(shared_data, Config(gallery=10))


def test_the_recipe_builds_the_decoder_ablation_from_its_networks() -> None:
    torch.manual_seed(0)
    problem = _images.super_resolution(4)
    nets = _images.Networks(generator_width=4, generator_blocks=1, critic_width=4, decoder_width=4)
    hi = torch.rand(6, 1, 32, 32)
    sets = {"val": Labelled(hi, torch.tensor([0, 1, 2, 0, 1, 2]))}
    classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 3))
    evaluator = ImageEvaluator(problem.renderer.observe, classifier, sets, 0)
    cfg = _images.ImageConfig(nets=nets)
    task = _images_run.make_aign(problem, cfg, evaluator, 0.1, 32, decoder=True)
    assert isinstance(task, ParametricDecoderAIGN) and task.renderer is problem.renderer
    assert set(task.priors) == {"image"} and task.prior_specs["image"].transform is not None
    assert not _images_run.make_aign(problem, cfg, evaluator, 0.0, 32).priors  # beta 0: none
    assert task.reconstruction == "mse"  # the default, what every reported run used
    l2 = _images.ImageConfig(nets=nets, reconstruction="l2")
    assert _images_run.make_aign(problem, l2, evaluator, 0.1, 32).reconstruction == "l2"
    with pytest.raises(ConfigError, match="factor must be 2, 4, 8 or 16"):
        _images.super_resolution(3)


def test_choose_beta_uses_validation_and_the_consistency_floor() -> None:
    def model(beta: float, val_psnr: float, val_bias: float, test_bias: float):
        final = {"eval/val_psnr": val_psnr, "eval/val_bias": val_bias, "eval/test_bias": test_bias}
        return _images_run.Model("AIGN", "k", beta, None, final)  # type: ignore[arg-type]

    sweep = [model(0.01, 33.0, 0.4, 0.9), model(0.03, 29.0, 0.7, 0.1), model(0.1, 25.0, 0.95, 1.0)]
    chosen, ok = _images_run.choose_beta(sweep, 28.0)
    assert ok and chosen.beta == 0.03  # best val bias above the floor; test numbers ignored
    chosen, ok = _images_run.choose_beta(sweep, 40.0)
    assert not ok and chosen.beta == 0.01  # nobody meets the floor: the most consistent


def test_faces_measure_identity_with_the_pixel_classifier(shared_data: Path) -> None:
    data = _split(shared_data, Config())
    faces = _images_run.make_classifier(Config().nets, data)
    assert isinstance(faces, PixelClassifier)  # the faces default, standardized on its data
    torch.testing.assert_close(faces.mean, data.classifier_train.images.mean(0))
    digits = _images_run.make_classifier(_images.Networks(), data)
    assert isinstance(digits, ImageClassifier)  # the default elsewhere
    with pytest.raises(ConfigError, match=r"nets\.classifier must be 'cnn' or 'pixels'"):
        _images_run.make_classifier(_images.Networks(classifier="svm"), data)  # type: ignore[arg-type]
