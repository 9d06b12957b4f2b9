"""Building the I3D network, optimizer and train cell for fine-tuning or training from scratch."""
import mindspore as ms
from mindspore import nn

from src.i3d.checkpoint import load_i3d_checkpoint
from src.i3d.network import BN_MOMENTUM, InceptionI3D, select_finetune_parameters


def build_training_network(mode, num_classes, finetune_num_classes, checkpoint_path, finetune_prefixes,
                           dropout_keep_prob, bn_momentum=BN_MOMENTUM):
    """(network, trainable parameters).

    With a pretrained checkpoint (whose head has `num_classes` outputs) the head is replaced by a
    `finetune_num_classes` one and only `finetune_prefixes` train; without one, a `finetune_num_classes` network
    trains entirely (the seed trained a 400-way head from scratch, spec I-17).
    """
    if checkpoint_path:
        net = InceptionI3D(num_classes=num_classes, mode=mode, dropout_keep_prob=dropout_keep_prob,
                           bn_momentum=bn_momentum)
        load_i3d_checkpoint(net, checkpoint_path)
        net.replace_logits(finetune_num_classes)
        return net, select_finetune_parameters(net, finetune_prefixes)
    net = InceptionI3D(num_classes=finetune_num_classes, mode=mode, dropout_keep_prob=dropout_keep_prob,
                       bn_momentum=bn_momentum)
    return net, select_finetune_parameters(net, "")


def build_optimizer(name, params, learning_rate, momentum, weight_decay):
    """adam | sgd | rmsprop, as the seed's get_optimizer; `learning_rate` may be a per-step list."""
    if name == "adam":
        return nn.Adam(params, learning_rate=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return nn.SGD(params, learning_rate=learning_rate, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return nn.RMSProp(params, learning_rate=learning_rate, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r} (adam, sgd or rmsprop)")


def build_train_cell(network, optimizer, amp_level, device_target):
    """Network + softmax cross-entropy + optimizer in one cell; gradients are averaged over ranks when the
    data-parallel context is set. Loss scaling only where fp16 really runs (not on CPU, where MindSpore's dynamic
    loss scale is refused and fp16 brings no speed)."""
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    scale = ms.amp.DynamicLossScaleManager() if amp_level != "O0" and device_target != "CPU" else None
    return ms.amp.build_train_network(network, optimizer, loss, level=amp_level, loss_scale_manager=scale)
