"""Reading ECO-lite checkpoints into ECOLite.

Our parameter names are the original's, so one rule covers the released `ms_model_kinetics_checkpoint0720.ckpt`
(400-class head), checkpoints saved by the original's training and our own: every network parameter must come from an
entry of the same name and shape. The one exception is the head: a `new_fc` for another class count is the
fine-tuning case, and the network keeps its fresh head. Optimizer and loss-scale state (`moments.*`, `learning_rate`,
`momentum`, `global_step`, `scale_sense`, ...) is skipped. The original loaded nothing when no key was missing and
zero-filled missing BatchNorm tensors (docs/differences.md#eco-strict-checkpoint); here every other gap is an error
naming the file and the key.
"""
import numpy as np
import mindspore as ms

from src.engine.checkpoint_io import MINDSPORE_TRAINING_SCALARS, CheckpointError, read_mindspore_checkpoint

HEAD_PARAMETERS = ("new_fc.weight", "new_fc.bias")


def _is_training_state(key, parameter_names):
    """Optimizer/loss-scale entries: known scalars, or per-parameter state such as `moments.<parameter name>`."""
    _, _, shadowed = key.partition(".")
    return key in MINDSPORE_TRAINING_SCALARS or shadowed in parameter_names


def _head_fits_other_classes(entries, net_params):
    """True when the checkpoint's head is a valid Dense(512, K) for a K other than the network's class count."""
    weight, bias = (entries.get(name) for name in HEAD_PARAMETERS)
    if not (isinstance(weight, np.ndarray) and isinstance(bias, np.ndarray)):
        return False
    in_features = net_params["new_fc.weight"].shape[1]
    return weight.ndim == 2 and weight.shape[1] == in_features and bias.shape == (weight.shape[0],)


def load_eco_parameters(net, entries, source, strict=True, allow_new_head=True):
    """Load {name: array} `entries` (read from `source`, used in messages) into `net`; see load_eco_checkpoint."""
    net_params = {param.name: param for param in net.get_parameters()}
    if not any(name in entries for name in net_params):
        sample = ", ".join(sorted(entries)[:5]) or "no entries"
        raise CheckpointError(f"checkpoint {source} holds no ECO-lite parameters; first keys: {sample}")

    head_loaded = True
    head_shapes = tuple(tuple(net_params[name].shape) for name in HEAD_PARAMETERS)
    checkpoint_head_shapes = tuple(tuple(getattr(entries.get(name), "shape", ())) for name in HEAD_PARAMETERS)
    if checkpoint_head_shapes != head_shapes and _head_fits_other_classes(entries, net_params):
        checkpoint_classes = checkpoint_head_shapes[0][0]
        if not allow_new_head:
            raise CheckpointError(f"checkpoint {source} has a {checkpoint_classes}-class head (new_fc) but the "
                                  f"network has {net.num_classes} classes: pass --num_classes {checkpoint_classes}")
        print(f"checkpoint {source}: its new_fc has {checkpoint_classes} classes and the network {net.num_classes}; "
              f"loading everything else and keeping the network's fresh new_fc (fine-tuning)")
        head_loaded = False

    to_load = {name: param for name, param in net_params.items() if head_loaded or name not in HEAD_PARAMETERS}
    missing = [name for name in to_load if name not in entries]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise CheckpointError(f"checkpoint {source} lacks {len(missing)} parameter(s) of the network: "
                              f"{', '.join(repr(name) for name in missing[:10])}{more}")
    for name, param in to_load.items():
        value = entries[name]
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"checkpoint {source}: '{name}' is a {type(value).__name__}, not a tensor")
        if tuple(value.shape) != tuple(param.shape):
            raise CheckpointError(f"checkpoint {source}: '{name}' has shape {tuple(value.shape)} but the network "
                                  f"expects {tuple(param.shape)}")

    unexpected = [key for key in entries if key not in net_params and not _is_training_state(key, net_params)]
    if unexpected:
        listed = ", ".join(repr(key) for key in unexpected)
        if strict:
            raise CheckpointError(f"checkpoint {source} has {len(unexpected)} entr"
                                  f"{'y' if len(unexpected) == 1 else 'ies'} that match no network parameter: "
                                  f"{listed} (strict=False skips them)")
        print(f"checkpoint {source}: skipping entries that match no network parameter: {listed}")

    parameters = {name: ms.Parameter(ms.Tensor(entries[name].astype(np.float32)), name=name) for name in to_load}
    params_not_loaded, ckpt_not_loaded = ms.load_param_into_net(net, parameters, strict_load=True)
    if set(params_not_loaded) != set(net_params) - set(to_load) or ckpt_not_loaded:
        raise CheckpointError(f"checkpoint {source}: MindSpore did not load {params_not_loaded} and left "
                              f"{ckpt_not_loaded} unused")
    return head_loaded


def load_eco_checkpoint(net, path, strict=True, allow_new_head=True):
    """Load an ECO-lite MindSpore checkpoint (the original's or ours) into `net`; returns whether new_fc was loaded.

    A head for another class count is left fresh with a printed note (returns False) unless `allow_new_head` is
    False, which makes it an error (evaluation wants the trained head). Entries that are neither network parameters
    nor training state are an error, or a printed note with `strict=False`. Missing files, empty, truncated or foreign
    files, missing parameters and shape mismatches raise CheckpointError naming the file and the key.
    """
    entries = read_mindspore_checkpoint(path)
    return load_eco_parameters(net, entries, str(path), strict=strict, allow_new_head=allow_new_head)
