"""sr-faces: the faces split keeps people apart, the ablation trains its decoder, beta
is chosen on validation (end to end: test_image_recipes.py)."""

from __future__ import annotations

import pytest
import torch

from unpaired.aign import AIGN
from unpaired.errors import ConfigError
from unpaired.models.images import ImageClassifier, PixelClassifier
from unpaired.recipes import _images
from unpaired.recipes.base import RunContext
from unpaired.recipes.sr_faces import Config


def _rows(images: torch.Tensor) -> set[bytes]:
    return {bytes(r.numpy().tobytes()) for r in images.flatten(1)}


def test_faces_split_holds_people_and_evaluation_images_out(data_ctx: RunContext) -> None:
    cfg = Config()
    data = _images.faces_data(cfg, data_ctx)
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


def test_parametric_decoder_ablation_trains_its_decoder_with_the_generator() -> None:
    torch.manual_seed(0)
    problem = _images.SuperResolution(4)
    nets = _images.Networks(generator_width=4, generator_blocks=1, critic_width=4, decoder_width=4)
    classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 3))
    hi = torch.rand(6, 1, 32, 32)
    sets = {"val": _images.Labelled(hi, torch.tensor([0, 1, 2, 0, 1, 2]))}
    evaluator = _images.Evaluator(problem, classifier, sets, memory_class=0)
    task = _images.make_aign(
        problem, _images.ImageConfig(nets=nets), evaluator, 0.1, 32, decoder=True
    )
    assert isinstance(task, _images.ParametricDecoderAIGN)
    decoder_params = {id(p) for p in task.decoder.parameters()}
    assert decoder_params <= {id(p) for p in task.generator_parameters()}
    assert not decoder_params & {id(p) for p in task.critic_parameters()}
    batch = {"x": problem.observe(hi), "memories": {"image": torch.rand(6, 1, 32, 32)}}
    losses = task.generator_losses(batch)
    losses["reconstruction"].backward()
    assert all(p.grad is not None for p in task.decoder.parameters())
    # the reconstruction is Dec(G(x)), not the true renderer's P(G(x))
    with torch.no_grad():
        out = task.generator(batch["x"])
        via_decoder = (task.decoder(out) - batch["x"]).square().mean()
    torch.testing.assert_close(losses["reconstruction"].detach(), via_decoder)
    metrics = task.evaluate()
    assert {"val_psnr", "val_decoder_psnr", "val_bias", "val_keep"} <= set(metrics)
    with pytest.raises(ValueError, match="parameter-free"):  # AIGN itself refuses a decoder
        AIGN(task.generator, task.decoder)


def test_choose_beta_uses_validation_and_the_consistency_floor() -> None:
    def model(beta: float, val_psnr: float, val_bias: float, test_bias: float) -> _images.Model:
        final = {"eval/val_psnr": val_psnr, "eval/val_bias": val_bias, "eval/test_bias": test_bias}
        return _images.Model("AIGN", "k", beta, None, final)  # type: ignore[arg-type]

    sweep = [model(0.01, 33.0, 0.4, 0.9), model(0.03, 29.0, 0.7, 0.1), model(0.1, 25.0, 0.95, 1.0)]
    chosen, ok = _images.choose_beta(sweep, 28.0)
    assert ok and chosen.beta == 0.03  # best val bias above the floor; test numbers ignored
    chosen, ok = _images.choose_beta(sweep, 40.0)
    assert not ok and chosen.beta == 0.01  # nobody meets the floor: the most consistent


def test_faces_measure_identity_with_the_pixel_classifier(data_ctx: RunContext) -> None:
    data = _images.faces_data(Config(), data_ctx)
    faces = _images.make_classifier(Config().nets, data)
    assert isinstance(faces, PixelClassifier)  # the faces default, standardized on its data
    torch.testing.assert_close(faces.mean, data.classifier_train.images.mean(0))
    digits = _images.make_classifier(_images.Networks(), data)
    assert isinstance(digits, ImageClassifier)  # the default elsewhere
    with pytest.raises(ConfigError, match=r"nets\.classifier must be 'cnn' or 'pixels'"):
        _images.make_classifier(_images.Networks(classifier="svm"), data)  # type: ignore[arg-type]
