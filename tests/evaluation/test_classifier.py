"""evaluation.classifier: accuracy and the one classifier task."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from unpaired.data.augment import random_roll
from unpaired.evaluation import ClassifierTask, accuracy


class _Threshold(nn.Module):
    """Class 1 when the mean pixel exceeds 0.5 (logits (N, 2))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.flatten(1).mean(1)
        return torch.stack([0.5 - m, m - 0.5], 1)


def test_accuracy_is_the_share_of_correct_labels() -> None:
    images = torch.tensor([0.1, 0.9, 0.8, 0.2, 0.7])[:, None, None, None].expand(5, 1, 2, 2)
    labels = torch.tensor([0, 1, 0, 0, 0])
    assert accuracy(_Threshold(), images, labels, chunk=2) == pytest.approx(3 / 5)


def _task(**kw) -> ClassifierTask:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    return ClassifierTask(net, torch.rand(10, 1, 4, 4), torch.randint(3, (10,)), **kw)


def test_classifier_task_loss_accuracy_and_checkpoint_keys() -> None:
    seen = []

    def augment(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.shape)
        return random_roll(x, 1)

    task = _task(augment=augment)
    batch = (torch.rand(8, 1, 4, 4), torch.randint(3, (8,)))
    losses = task.generator_losses(batch)
    assert set(losses) == {"cross_entropy"} and math.isfinite(losses["cross_entropy"].item())
    assert seen == [torch.Size([8, 1, 4, 4])]
    losses["cross_entropy"].backward()
    assert all(p.grad is not None for p in task.net.parameters())
    assert task.critic_parameters() == []
    expected = accuracy(task.net, task.held_out_images, task.held_out_labels)
    assert task.evaluate() == {"accuracy": expected}
    # only the network is checkpointed; the held-out set is not
    assert set(task.state_dict()) == {"net.1.weight", "net.1.bias"}


def test_classifier_task_loads_checkpoints_of_the_tasks_it_replaced() -> None:
    source = _task()
    weights = source.state_dict()
    images_style = {k.replace("net.", "classifier.", 1): v for k, v in weights.items()}
    align_style = {**weights, "val_x": torch.zeros(3, 1, 4, 4), "val_y": torch.zeros(3)}
    for old in (images_style, align_style):
        target = _task()
        with torch.no_grad():
            for p in target.parameters():
                p.zero_()
        target.load_state_dict(old)  # strict
        for k, v in target.state_dict().items():
            torch.testing.assert_close(v, weights[k])
