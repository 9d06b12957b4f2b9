"""MomentumSGD: ECO-pytorch's optimizer (torch.optim.SGD with momentum, dampening 0) in one pass per parameter."""
import mindspore as ms
from mindspore import nn, ops

_update = ops.MultitypeFuncGraph("momentum_sgd_update")
_descend = ops.ApplyGradientDescent()


@_update.register("Function", "Bool", "Tensor", "Tensor", "Tensor", "Number", "Tensor", "Tensor", "Tensor")
def _update_parameter(apply, nesterov, momentum, learning_rate, factor, decay, gradient, parameter, accum):
    gradient = gradient * factor.astype(gradient.dtype)
    if decay:
        gradient = parameter * decay + gradient
    if not nesterov:
        return ops.depend(True, apply(parameter, accum, learning_rate, gradient, momentum))
    # Nesterov's step p -= lr * (g + m * accum') as p -= (lr * m) * accum' (ApplyMomentum's plain step, which also
    # updates accum' = m * accum + g), then p -= lr * g (one fused pass each): MindSpore's CPU ApplyMomentum ignores use_nesterov.
    updated = apply(parameter, accum, learning_rate * momentum, gradient, momentum)
    return ops.depend(True, _descend(parameter, learning_rate, ops.depend(gradient, updated)))


class MomentumSGD(nn.Optimizer):
    """SGD with momentum (optionally Nesterov's), dampening 0 and weight decay per parameter group.

    nn.SGD computes the same step but keeps a second state tensor the size of the network (`stat`, which only makes
    the first step start the buffer from the gradient; a zero buffer does that anyway) and makes a decayed copy of
    every gradient before updating any. Here the clipping factor (TrainStep passes it: clip_norm / global norm) and the
    weight decay are applied in the update's own pass: for ECO-lite 150 MB less state and fewer full passes per step.
    The state keeps nn.SGD's names (`accum.*`), so a checkpoint written with either resumes with either.
    """

    takes_clip_factor = True

    def __init__(self, groups, learning_rate, momentum, nesterov=False):
        super().__init__(learning_rate, groups)
        if self.is_group_lr or self.dynamic_lr:
            raise ValueError("MomentumSGD takes one fixed learning rate (a number) for every group")
        decay_of = {id(param): float(group.get("weight_decay", 0.0)) for group in groups for param in group["params"]}
        self.decays = tuple(decay_of[id(param)] for param in self._parameters)
        self.momentum = ms.Parameter(ms.Tensor(momentum, ms.float32), name="momentum")
        self.accum = self._parameters.clone(prefix="accum", init="zeros")
        self.nesterov = bool(nesterov)
        self.apply = ops.ApplyMomentum()
        self.one = ms.Tensor(1.0, ms.float32)

    def construct(self, gradients, clip_factor=None):
        factor = self.one if clip_factor is None else clip_factor
        self.assignadd(self.global_step, self.global_step_increase_tensor)
        update = ops.partial(_update, self.apply, self.nesterov, self.momentum, self.get_lr(), factor)
        return self.hyper_map(update, self.decays, gradients, self._parameters, self.accum)
