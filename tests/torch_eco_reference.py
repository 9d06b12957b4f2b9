"""PyTorch reference of ECO-lite as zhang-can/ECO-pytorch builds it (BN-Inception trunk to inception_3c_double_3x3_1,
then the 3-D ResNet-18 res3-res5 part, global average pool, dropout, linear head), for parity tests and as the
benchmark's PyTorch peer.

Written as nn.Modules independently of src/eco_lite (the functional rendering in tests/eco_lite checks the seed's
forward only). Modules carry the project's names so `load_mindspore_parameters` maps checkpoints one to one:
`base_model.conv1.conv2d.weight`, `base_model.conv1.bn2d.weight` (MindSpore gamma), `base_model.res3a_bn_bn3d.weight`
(MindSpore `res3a_bn_bn3d.bn2d.gamma`), `new_fc.weight`. Caffe details as the original: ceil-mode max-pools,
pad-counting 3x3 average pools, residual sums before BatchNorm, padding-1 3x3x3 convolutions with bias.
"""
import torch
import torch.nn.functional as F
from torch import nn

from tests.torch_i3d_reference import load_mindspore_parameters  # noqa: F401  (re-exported for ECO's users)

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


class Unit2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel=1, stride=1, padding=0):
        super().__init__()
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=True)
        self.bn2d = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)

    def forward(self, x):
        return F.relu(self.bn2d(self.conv2d(x)))


class Inception(nn.Module):
    """1x1 | 1x1->3x3 | 1x1->3x3->3x3 | avg-pool 3x3 (pad counted) -> 1x1."""

    def __init__(self, in_channels, widths):
        super().__init__()
        b1, (b2r, b2), (b3r, b3m, b3), b4 = widths
        self.b1 = Unit2d(in_channels, b1)
        self.b2 = nn.Sequential(Unit2d(in_channels, b2r), Unit2d(b2r, b2, 3, padding=1))
        self.b3 = nn.Sequential(Unit2d(in_channels, b3r), Unit2d(b3r, b3m, 3, padding=1), Unit2d(b3m, b3, 3, padding=1))
        self.b4 = Unit2d(in_channels, b4)
        self.out_channels = b1 + b2 + b3 + b4

    def forward(self, x):
        pooled = F.avg_pool2d(x, 3, 1, 1, count_include_pad=True)
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(pooled)], dim=1)


def conv3x3x3(in_channels, out_channels, stride=1):
    return nn.Conv3d(in_channels, out_channels, 3, stride, 1, bias=True)


def bn3d(channels):
    return nn.BatchNorm3d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class ECOBackbone(nn.Module):
    def __init__(self, num_segments):
        super().__init__()
        self.num_segments = num_segments
        self.conv1 = Unit2d(3, 64, 7, 2, 3)
        self.conv2 = Unit2d(64, 64)
        self.conv3 = Unit2d(64, 192, 3, padding=1)
        self.block3a = Inception(192, (64, (64, 64), (64, 96, 96), 32))
        self.block3b = Inception(self.block3a.out_channels, (64, (64, 96), (64, 96, 96), 64))
        self.conv4 = Unit2d(self.block3b.out_channels, 64)
        self.conv5 = Unit2d(64, 96, 3, padding=1)
        for name, (cin, cout, stride) in {"res3a_2": (96, 128, 1), "res3b_1": (128, 128, 1), "res3b_2": (128, 128, 1),
                                          "res4a_1": (128, 256, 2), "res4a_2": (256, 256, 1),
                                          "res4a_down": (128, 256, 2), "res4b_1": (256, 256, 1),
                                          "res4b_2": (256, 256, 1), "res5a_1": (256, 512, 2),
                                          "res5a_2": (512, 512, 1), "res5a_down": (256, 512, 2),
                                          "res5b_1": (512, 512, 1), "res5b_2": (512, 512, 1)}.items():
            self.add_module(f"{name}_conv3d", conv3x3x3(cin, cout, stride))
        for name, channels in {"res3a_bn": 128, "res3b_1_bn": 128, "res3b_bn": 128, "res4a_1_bn": 256,
                               "res4a_bn": 256, "res4b_1_bn": 256, "res4b_bn": 256, "res5a_1_bn": 512,
                               "res5a_bn": 512, "res5b_1_bn": 512, "res5b_bn": 512}.items():
            self.add_module(f"{name}_bn3d", bn3d(channels))

    def _bn_relu(self, x, name):
        return F.relu(getattr(self, f"{name}_bn3d")(x))

    def _conv(self, x, name):
        return getattr(self, f"{name}_conv3d")(x)

    def forward(self, frames):
        x = F.max_pool2d(self.conv1(frames), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.conv3(self.conv2(x)), 3, 2, ceil_mode=True)
        x = self.conv5(self.conv4(self.block3b(self.block3a(x))))
        x = x.reshape(-1, self.num_segments, *x.shape[1:]).transpose(1, 2)
        res3a = self._conv(x, "res3a_2")
        x = self._bn_relu(self._conv(self._bn_relu(res3a, "res3a_bn"), "res3b_1"), "res3b_1_bn")
        x = self._bn_relu(res3a + self._conv(x, "res3b_2"), "res3b_bn")
        for stage in ("res4", "res5"):
            total = self._conv(self._bn_relu(self._conv(x, f"{stage}a_1"), f"{stage}a_1_bn"), f"{stage}a_2") + \
                self._conv(x, f"{stage}a_down")
            x = self._bn_relu(self._conv(self._bn_relu(total, f"{stage}a_bn"), f"{stage}b_1"), f"{stage}b_1_bn")
            x = self._bn_relu(total + self._conv(x, f"{stage}b_2"), f"{stage}b_bn")
        return x.mean(dim=(2, 3, 4))


class ReferenceECOLite(nn.Module):
    """(N, 3*T, H, W) clips -> logits (N, num_classes); dropout takes the original's keep probability."""

    def __init__(self, num_classes, num_segments=4, dropout_keep_prob=0.7):
        super().__init__()
        self.num_segments = num_segments
        self.base_model = ECOBackbone(num_segments)
        self.dropout = nn.Dropout(1.0 - dropout_keep_prob)
        self.new_fc = nn.Linear(512, num_classes)

    def forward(self, clips):
        batch, _, height, width = clips.shape
        return self.new_fc(self.dropout(self.base_model(clips.reshape(batch * self.num_segments, 3, height, width))))

    def partial_bn(self):
        """ECO-pytorch's partialBN(True): every BatchNorm but the first in eval mode with frozen affine parameters.
        Call after model.train()."""
        norms = [module for module in self.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
        for module in norms[1:]:
            module.eval()
            module.weight.requires_grad_(False)
            module.bias.requires_grad_(False)
