"""PyTorch reference of the published I3D, with piergiaj/pytorch-i3d's architecture and state_dict names.

Written independently of src/i3d (own layer table) so that parity with it checks the MindSpore network's layers,
padding, BatchNorm and head. Padding follows piergiaj: TF "SAME" computed from the input size, zeros for
convolutions and max-pools (zeros never win a max after a ReLU). Forward returns logits (N, classes, T') like
piergiaj; average over T' for per-clip logits.
"""
import torch
import torch.nn.functional as F
from torch import nn

MINDSPORE_BN_NAMES = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean",
                      "running_var": "moving_variance"}

# (name, kind, spec) as in the I3D paper / DeepMind's i3d.py.
REFERENCE_LAYERS = (
    ("Conv3d_1a_7x7", "unit", (64, 7, 2)),
    ("MaxPool3d_2a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", "unit", (64, 1, 1)),
    ("Conv3d_2c_3x3", "unit", (192, 3, 1)),
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


def pad_tf_same(x, kernel, stride):
    """Zero-pad (N,C,T,H,W) so that a VALID op with this kernel/stride gives TF SAME output; extra at the end."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit(nn.Module):
    def __init__(self, in_channels, out_channels, kernel=1, stride=1, batch_norm=True, relu=True, bias=False):
        super().__init__()
        self.kernel, self.stride = (kernel,) * 3, (stride,) * 3
        self.conv3d = nn.Conv3d(in_channels, out_channels, self.kernel, self.stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=1e-3, momentum=0.01) if batch_norm else None
        self.relu = relu

    def forward(self, x):
        x = self.conv3d(pad_tf_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPoolSame(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        return F.max_pool3d(pad_tf_same(x, self.kernel, self.stride), self.kernel, self.stride)


class Inception(nn.Module):
    def __init__(self, in_channels, widths):
        super().__init__()
        self.b0 = Unit(in_channels, widths[0])
        self.b1a = Unit(in_channels, widths[1])
        self.b1b = Unit(widths[1], widths[2], 3)
        self.b2a = Unit(in_channels, widths[3])
        self.b2b = Unit(widths[3], widths[4], 3)
        self.b3a = MaxPoolSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit(in_channels, widths[5])
        self.out_channels = widths[0] + widths[2] + widths[4] + widths[5]

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class ReferenceI3D(nn.Module):
    def __init__(self, num_classes=400, in_channels=3):
        super().__init__()
        channels = in_channels
        self.endpoint_names = []
        for name, kind, spec in REFERENCE_LAYERS:
            if kind == "unit":
                layer = Unit(channels, *spec)
                channels = spec[0]
            elif kind == "pool":
                layer = MaxPoolSame(*spec)
            else:
                layer = Inception(channels, spec)
                channels = layer.out_channels
            self.add_module(name, layer)
            self.endpoint_names.append(name)
        self.avg_pool = nn.AvgPool3d((2, 7, 7), stride=1)
        self.dropout = nn.Dropout(0.5)
        self.logits = Unit(channels, num_classes, batch_norm=False, relu=False, bias=True)

    def forward(self, x):
        for name in self.endpoint_names:
            x = getattr(self, name)(x)
        return self.logits(self.dropout(self.avg_pool(x))).squeeze(3).squeeze(3)


def randomize(model, seed=0):
    """He-normal conv weights and random BN affine parameters and running statistics, so activations keep unit
    scale through the eval-mode network and every tensor matters for the logits."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=generator)
                if module.bias is not None:
                    module.bias.normal_(0.0, 0.1, generator=generator)
            elif isinstance(module, nn.BatchNorm3d):
                module.weight.uniform_(0.8, 1.2, generator=generator)
                module.bias.normal_(0.0, 0.1, generator=generator)
                module.running_mean.normal_(0.0, 0.1, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    return model


def reference_i3d(mode="rgb", num_classes=400, seed=0):
    """A randomised reference network in eval mode."""
    model = ReferenceI3D(num_classes, in_channels={"rgb": 3, "flow": 2}[mode])
    return randomize(model, seed).eval()


def mindspore_name(torch_name):
    """The project's parameter name of a state_dict key of ReferenceI3D or ReferenceECOLite (tests/)."""
    prefix, _, slot = torch_name.rpartition(".")
    if slot not in MINDSPORE_BN_NAMES or not prefix.endswith(("bn2d", "_bn3d", ".bn")):
        return torch_name
    inner = "" if prefix.endswith("bn2d") else ".bn2d"  # MindSpore's BatchNorm3d keeps its state in an inner bn2d
    return f"{prefix}{inner}.{MINDSPORE_BN_NAMES[slot]}"


def load_mindspore_parameters(model, params):
    """Copy {MindSpore parameter name: array} into `model`; every tensor of the state_dict must be found."""
    state = model.state_dict()
    missing = [key for key in state if not key.endswith("num_batches_tracked") and mindspore_name(key) not in params]
    if missing:
        raise KeyError(f"{len(missing)} parameters missing, e.g. {missing[:3]}")
    model.load_state_dict({key: torch.from_numpy(params[mindspore_name(key)].copy()).reshape(value.shape)
                           if not key.endswith("num_batches_tracked") else value for key, value in state.items()})
    return model
