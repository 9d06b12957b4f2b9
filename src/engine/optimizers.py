"""MomentumSGD: ECO-pytorch's optimizer (torch.optim.SGD with momentum, dampening 0) with one state tensor and no
full-size temporaries."""
import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.ops.momentum_sgd import compiled_momentum_update

_update = ops.MultitypeFuncGraph("momentum_sgd_update")
_compiled_update = ops.MultitypeFuncGraph("compiled_momentum_sgd_update")
_descend = ops.ApplyGradientDescent()


def _update_parameter(apply, nesterov, momentum_value, momentum, learning_rate, factor, decay, gradient, parameter,
                      accum):
    """accum' = m * accum + g' with g' = factor * g + decay * p; p -= lr * accum' (Nesterov: lr * (g' + m * accum')).

    The decay term goes straight into the buffers (accum += decay / m * p before ApplyMomentum; Nesterov also
    p -= lr * decay * p first) instead of into a decayed copy of every gradient, which MindSpore's schedule keeps alive
    at once (150 MB for ECO-lite). Nesterov's remaining p -= lr * (factor * g + m * accum') is ApplyMomentum's plain
    step with rate lr * m, then p -= lr * factor * g: MindSpore's CPU ApplyMomentum ignores use_nesterov."""
    if factor is not None:
        gradient = gradient * factor.astype(gradient.dtype)
    if decay:
        _descend(accum, ms.Tensor(-decay / momentum_value, ms.float32), parameter)
        if nesterov:
            _descend(parameter, learning_rate * decay, parameter)
    if not nesterov:
        return ops.depend(True, apply(parameter, accum, learning_rate, gradient, momentum))
    updated = apply(parameter, accum, learning_rate * momentum, gradient, momentum)
    return ops.depend(True, _descend(parameter, learning_rate, ops.depend(gradient, updated)))


for _factor in ("Tensor", "None"):  # the clipping factor, or none without clipping
    _update.register("Function", "Bool", "Number", "Tensor", "Tensor", _factor, "Number", "Tensor", "Tensor",
                     "Tensor")(_update_parameter)


@_compiled_update.register("Function", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor")
def _compiled_update_parameter(kernel, learning_rate, factor, config, gradient, parameter, accum):
    return kernel(parameter, accum, gradient, learning_rate, factor, config)


class MomentumSGD(nn.Optimizer):
    """SGD with momentum (optionally Nesterov's), dampening 0 and weight decay per parameter group (a list of
    parameters is one group without weight decay).

    nn.SGD computes the same step but keeps a second state tensor the size of the network (`stat`, which only makes
    the first step start the buffer from the gradient; a zero buffer does that anyway) and makes a decayed copy of
    every gradient. Here the clipping factor (TrainStep passes it: clip_norm / global norm) and the weight decay go
    into the update itself: ECO-lite's training step needs about 300 MB less. On CPU, where src/ops is built, each
    parameter's step is one compiled in-place pass (the same arithmetic, in torch's order) instead of up to four
    kernels, one of them writing a full-size output each time: a 4-segment ECO-lite step is about 1.2x faster. The
    state keeps nn.SGD's names (`accum.*`), so a checkpoint written with either resumes with either. Needs a
    momentum above 0.
    """

    takes_clip_factor = True

    def __init__(self, groups, learning_rate, momentum, nesterov=False):
        super().__init__(learning_rate, groups)
        if self.is_group_lr or self.dynamic_lr:
            raise ValueError("MomentumSGD takes one fixed learning rate (a number) for every group")
        groups = groups if isinstance(groups[0], dict) else [{"params": groups}]
        decay_of = {id(param): float(group.get("weight_decay", 0.0)) for group in groups for param in group["params"]}
        self.decays = tuple(decay_of[id(param)] for param in self._parameters)
        if momentum <= 0:
            raise ValueError(f"MomentumSGD needs a momentum above 0, got {momentum} (use nn.SGD without momentum)")
        self.momentum_value = float(momentum)
        self.momentum = ms.Parameter(ms.Tensor(momentum, ms.float32), name="momentum")
        self.accum = self._parameters.clone(prefix="accum", init="zeros")
        self.nesterov = bool(nesterov)
        self.apply = ops.ApplyMomentum()
        self.kernel = None
        if all(param.dtype == ms.float32 for param in self._parameters):
            self.kernel = compiled_momentum_update()
        if self.kernel is not None:
            self.one = ms.Tensor(1.0, ms.float32)
            self.configs = tuple(ms.Tensor(np.array([momentum, decay, float(self.nesterov)], np.float32))
                                 for decay in self.decays)

    def construct(self, gradients, clip_factor=None):
        self.assignadd(self.global_step, self.global_step_increase_tensor)
        if self.kernel is not None:
            # Waiting for every gradient orders each in-place write after the last read of its parameter; the
            # clipping factor waits for them already.
            factor = ops.depend(self.one, gradients) if clip_factor is None else clip_factor
            update = ops.partial(_compiled_update, self.kernel, self.get_lr(), factor)
            return self.hyper_map(update, self.configs, gradients, self._parameters, self.accum)
        update = ops.partial(_update, self.apply, self.nesterov, self.momentum_value, self.momentum, self.get_lr(),
                             clip_factor)
        return self.hyper_map(update, self.decays, gradients, self._parameters, self.accum)
