"""ECO-lite (Zolfaghari et al., 2018) as the MindSpore model zoo's ECONet: a 2-D BN-Inception trunk per frame, a 3-D
ResNet over the stacked frame features, global average pooling, dropout and a linear head.

The layers, paddings and BatchNorm settings (eps 1e-5, PyTorch momentum 0.1) are the original's, and so are the parameter
names (`base_model.conv1.conv2d.weight`, `base_model.block3a.b2.0.bn2d.gamma`, `base_model.res3a_bn_bn3d.bn2d.gamma`,
`new_fc.weight`), so checkpoints written by the original load by name. Convolutions and BatchNorm keep MindSpore's default
initialisation as the original did; the head is xavier_uniform with a zero bias. On CPU the convolutions train with the
compiled kernels of src/ops where built; inference and exported graphs use nn.Conv2d/nn.Conv3d.
"""
from mindspore import nn, ops

from src.layers import SeededDropout
from src.ops import conv
from src.ops.maxpool3d import max_pool_2d_valid

BN_EPS = 1e-5
# PyTorch convention (weight of the new batch), as the original's MindSpore momentum 0.9.
BN_MOMENTUM = 0.1
# The original's `dropout` flag (0.7) is a keep probability: Dropout(p = 1 - 0.7). SeededDropout (src/layers.py)
# keys its masks by (seed, step), so a run and its resumed continuation draw the same ones.
DROPOUT_KEEP_PROB = 0.7
NUM_SEGMENTS = 4
FEATURE_CHANNELS = 512
TRUNK_CHANNELS = 96

# Inception widths: (1x1, (reduce, 3x3), (reduce, 3x3, 3x3), pool projection), after BN-Inception's 3a and 3b.
BLOCK3A_WIDTHS = (64, (64, 64), (64, 96, 96), 32)
BLOCK3B_WIDTHS = (64, (64, 96), (64, 96, 96), 64)


def zero_pad_hw(x, leading):
    """One zero row and column at the bottom/right of (N, C, H, W), and at the top/left too when `leading`.

    Spelled as concatenations because ONNX export refuses ops.pad (PadV3) and MindSpore's padded 2-D pools (which it
    runs as 3-D pools); the values are those of ops.pad.
    """
    row = ops.zeros_like(x[:, :, :1, :])
    x = ops.concat((row, x, row) if leading else (x, row), axis=2)
    column = ops.zeros_like(x[:, :, :, :1])
    return ops.concat((column, x, column) if leading else (x, column), axis=3)


class ConvBNReLU2d(nn.Cell):
    """Conv2d (with bias, explicit padding) -> BatchNorm2d -> ReLU; the original's Conv2dBlock, same attribute names."""

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, padding=0, bn_momentum=BN_MOMENTUM):
        super().__init__()
        self.conv2d = conv.conv2d(in_channels, out_channels, kernel_size, stride, pad_mode="pad", padding=padding,
                                  has_bias=True)
        self.bn2d = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=1.0 - bn_momentum)
        self.relu = nn.ReLU()

    def construct(self, x):
        return self.relu(self.bn2d(self.conv2d(x)))


class Inception2d(nn.Cell):
    """BN-Inception block: 1x1 | 1x1->3x3 | 1x1->3x3->3x3 | avg-pool 3x3 -> 1x1, concatenated on channels.

    The pool counts its zero padding in the average (Caffe's AVE pooling, as the original's explicit pad + valid pool).
    """

    def __init__(self, in_channels, widths, bn_momentum=BN_MOMENTUM):
        super().__init__()
        b1, (b2_reduce, b2), (b3_reduce, b3_mid, b3), pool_projection = widths
        self.b1 = ConvBNReLU2d(in_channels, b1, bn_momentum=bn_momentum)
        self.b2 = nn.SequentialCell([ConvBNReLU2d(in_channels, b2_reduce, bn_momentum=bn_momentum),
                                     ConvBNReLU2d(b2_reduce, b2, 3, padding=1, bn_momentum=bn_momentum)])
        self.b3 = nn.SequentialCell([ConvBNReLU2d(in_channels, b3_reduce, bn_momentum=bn_momentum),
                                     ConvBNReLU2d(b3_reduce, b3_mid, 3, padding=1, bn_momentum=bn_momentum),
                                     ConvBNReLU2d(b3_mid, b3, 3, padding=1, bn_momentum=bn_momentum)])
        self.avgpool = nn.AvgPool2d(kernel_size=3, stride=1, pad_mode="valid")
        self.b4 = ConvBNReLU2d(in_channels, pool_projection, bn_momentum=bn_momentum)
        self.out_channels = b1 + b2 + b3 + pool_projection

    def construct(self, x):
        pooled = self.avgpool(zero_pad_hw(x, leading=True))
        return ops.concat((self.b1(x), self.b2(x), self.b3(x), self.b4(pooled)), axis=1)


class CeilMaxPool2d(nn.Cell):
    """3x3 stride-2 max-pool with Caffe's ceil rounding: one zero row and column at the end, then a valid pool.

    Zero padding never wins the max because the input comes out of a ReLU. On CPU the gradient is the compiled
    kernel of src/ops where built (the same result; MindSpore's takes an eighth of a training step).
    """

    def __init__(self):
        super().__init__()
        self.pool = max_pool_2d_valid(3, 2)

    def construct(self, x):
        return self.pool(zero_pad_hw(x, leading=False))


def conv3d(in_channels, out_channels, stride=1):
    """3x3x3 Conv3d with bias: 'same' padding at stride 1, one voxel of padding at stride 2 (the original's choice)."""
    if stride == 1:
        return conv.conv3d(in_channels, out_channels, 3, 1, pad_mode="same", has_bias=True)
    return conv.conv3d(in_channels, out_channels, 3, stride, pad_mode="pad", padding=1, has_bias=True)


class ECOBackbone(nn.Cell):
    """Frames (N*T, 3, H, W) -> clip features (N, 512): 2-D trunk to inception_3c_double_3x3_1, 3-D res3-res5,
    global average over (T/4, H/32, W/32).

    Attributes are flat and named as in the original (`conv1`, `block3a`, `res4a_down_conv3d`, `res4a_bn_bn3d`, ...)
    because those names are the checkpoint keys; the 3-D residual wiring is spelled out in `construct` for the same
    reason. Residual sums are taken before BatchNorm, as in the ECO-Lite prototxt.
    """

    def __init__(self, num_segments=NUM_SEGMENTS, bn_momentum=BN_MOMENTUM):
        super().__init__()
        self.num_segments = num_segments
        self.conv1 = ConvBNReLU2d(3, 64, 7, stride=2, padding=3, bn_momentum=bn_momentum)
        self.maxpool1 = CeilMaxPool2d()
        self.conv2 = ConvBNReLU2d(64, 64, bn_momentum=bn_momentum)
        self.conv3 = ConvBNReLU2d(64, 192, 3, padding=1, bn_momentum=bn_momentum)
        self.maxpool2 = CeilMaxPool2d()
        self.block3a = Inception2d(192, BLOCK3A_WIDTHS, bn_momentum)
        self.block3b = Inception2d(self.block3a.out_channels, BLOCK3B_WIDTHS, bn_momentum)
        self.conv4 = ConvBNReLU2d(self.block3b.out_channels, 64, bn_momentum=bn_momentum)
        self.conv5 = ConvBNReLU2d(64, TRUNK_CHANNELS, 3, padding=1, bn_momentum=bn_momentum)

        def bn3d(channels):
            return nn.BatchNorm3d(channels, eps=BN_EPS, momentum=1.0 - bn_momentum)

        self.res3a_2_conv3d = conv3d(TRUNK_CHANNELS, 128)
        self.res3a_bn_bn3d = bn3d(128)
        self.res3b_1_conv3d = conv3d(128, 128)
        self.res3b_1_bn_bn3d = bn3d(128)
        self.res3b_2_conv3d = conv3d(128, 128)
        self.res3b_bn_bn3d = bn3d(128)

        self.res4a_1_conv3d = conv3d(128, 256, stride=2)
        self.res4a_1_bn_bn3d = bn3d(256)
        self.res4a_2_conv3d = conv3d(256, 256)
        self.res4a_down_conv3d = conv3d(128, 256, stride=2)
        self.res4a_bn_bn3d = bn3d(256)
        self.res4b_1_conv3d = conv3d(256, 256)
        self.res4b_1_bn_bn3d = bn3d(256)
        self.res4b_2_conv3d = conv3d(256, 256)
        self.res4b_bn_bn3d = bn3d(256)

        self.res5a_1_conv3d = conv3d(256, FEATURE_CHANNELS, stride=2)
        self.res5a_1_bn_bn3d = bn3d(FEATURE_CHANNELS)
        self.res5a_2_conv3d = conv3d(FEATURE_CHANNELS, FEATURE_CHANNELS)
        self.res5a_down_conv3d = conv3d(256, FEATURE_CHANNELS, stride=2)
        self.res5a_bn_bn3d = bn3d(FEATURE_CHANNELS)
        self.res5b_1_conv3d = conv3d(FEATURE_CHANNELS, FEATURE_CHANNELS)
        self.res5b_1_bn_bn3d = bn3d(FEATURE_CHANNELS)
        self.res5b_2_conv3d = conv3d(FEATURE_CHANNELS, FEATURE_CHANNELS)
        self.res5b_bn_bn3d = bn3d(FEATURE_CHANNELS)
        self.relu = nn.ReLU()

    def trunk(self, frames):
        """2-D part: (N*T, 3, H, W) -> (N*T, 96, H/8, W/8)."""
        x = self.maxpool1(self.conv1(frames))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.block3b(self.block3a(x))
        return self.conv5(self.conv4(x))

    def stack_frames(self, features):
        """(N*T, C, H, W) -> (N, C, T, H, W): the frames of a clip become the time axis of the 3-D part."""
        _, channels, height, width = features.shape
        clips = features.reshape(-1, self.num_segments, channels, height, width)
        return clips.transpose(0, 2, 1, 3, 4)

    def construct(self, frames):
        x = self.stack_frames(self.trunk(frames))

        res3a = self.res3a_2_conv3d(x)
        x = self.relu(self.res3a_bn_bn3d(res3a))
        x = self.relu(self.res3b_1_bn_bn3d(self.res3b_1_conv3d(x)))
        x3 = self.relu(self.res3b_bn_bn3d(res3a + self.res3b_2_conv3d(x)))

        x = self.relu(self.res4a_1_bn_bn3d(self.res4a_1_conv3d(x3)))
        res4a = self.res4a_2_conv3d(x) + self.res4a_down_conv3d(x3)
        x = self.relu(self.res4a_bn_bn3d(res4a))
        x = self.relu(self.res4b_1_bn_bn3d(self.res4b_1_conv3d(x)))
        x4 = self.relu(self.res4b_bn_bn3d(res4a + self.res4b_2_conv3d(x)))

        x = self.relu(self.res5a_1_bn_bn3d(self.res5a_1_conv3d(x4)))
        res5a = self.res5a_2_conv3d(x) + self.res5a_down_conv3d(x4)
        x = self.relu(self.res5a_bn_bn3d(res5a))
        x = self.relu(self.res5b_1_bn_bn3d(self.res5b_1_conv3d(x)))
        x5 = self.relu(self.res5b_bn_bn3d(res5a + self.res5b_2_conv3d(x)))

        return x5.mean(axis=(2, 3, 4))


def new_head(num_classes):
    """The classifier, as the original: Dense(512, num_classes), xavier_uniform weight, zero bias."""
    return nn.Dense(FEATURE_CHANNELS, num_classes, weight_init="xavier_uniform", bias_init="zeros")


class ECOLite(nn.Cell):
    """ECO-lite for clips of `num_segments` RGB frames stacked on channels: (N, 3*T, H, W) -> logits (N, num_classes).

    224x224 frames give the published 96x28x28 trunk features and a 512 x T/4 x 7 x 7 res5 map; any size divisible by
    32 works (e.g. 64 or 112 for quick checks). `dropout_keep_prob` keeps the meaning of the original's `dropout` flag:
    the probability of *keeping* a feature (0.7 drops 30%). `bn_momentum` is in PyTorch's convention.
    """

    def __init__(self, num_classes, num_segments=NUM_SEGMENTS, dropout_keep_prob=DROPOUT_KEEP_PROB,
                 bn_momentum=BN_MOMENTUM):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        if num_segments < 1:
            raise ValueError(f"num_segments must be positive, got {num_segments}")
        if not 0.0 < dropout_keep_prob <= 1.0:
            raise ValueError(f"dropout_keep_prob must be in (0, 1], got {dropout_keep_prob}")
        if not 0.0 < bn_momentum < 1.0:
            raise ValueError(f"bn_momentum (PyTorch convention) must be in (0, 1), got {bn_momentum}")
        self.num_classes = num_classes
        self.num_segments = num_segments
        self.base_model = ECOBackbone(num_segments, bn_momentum)
        self.dropout = SeededDropout(p=1.0 - dropout_keep_prob)
        self.new_fc = new_head(num_classes)

    def replace_head(self, num_classes):
        """Swap in a fresh classifier for `num_classes` (fine-tuning); its parameters stay `new_fc.weight/bias`."""
        self.new_fc = new_head(num_classes)
        self.num_classes = num_classes

    def construct(self, clips):
        batch, channels, height, width = clips.shape
        if channels != 3 * self.num_segments:
            raise ValueError(f"expected {3 * self.num_segments} input channels ({self.num_segments} RGB frames), "
                             f"got {channels}")
        frames = clips.reshape(batch * self.num_segments, 3, height, width)
        return self.new_fc(self.dropout(self.base_model(frames)))


def batchnorm_layers(net):
    """Every BatchNorm2d cell in network order; a BatchNorm3d contributes its inner `bn2d`, which holds the state."""
    return [cell for _, cell in net.cells_and_names() if isinstance(cell, nn.BatchNorm2d)]


def optim_groups(net, partial_bn, weight_decay=5e-4):
    """Optimizer groups for `net`: weights (conv and fc) with `weight_decay`, biases and BN gamma/beta without.

    With `partial_bn` every BatchNorm but the first (conv1's) is frozen for real, as in ECO-pytorch: inference mode
    (moving statistics used, never updated) and gamma/beta untrainable and left out. Without it every BatchNorm is
    trainable and follows the cell's train/eval mode. Call before the first compiled training step: GRAPH mode bakes
    the BN mode into the graph. Returns a list for MindSpore optimizers, e.g. nn.SGD(optim_groups(net, True), ...).
    """
    for index, bn in enumerate(batchnorm_layers(net)):
        frozen = partial_bn and index > 0
        bn.use_batch_statistics = False if frozen else None
        bn.gamma.requires_grad = not frozen
        bn.beta.requires_grad = not frozen
    decay, no_decay = [], []
    for param in net.trainable_params():
        (decay if param.name.endswith(".weight") else no_decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
