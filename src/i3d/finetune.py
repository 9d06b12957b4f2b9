"""Building the I3D network and optimizer for fine-tuning or training from scratch."""
from mindspore import nn

from src.i3d.checkpoint import load_i3d_checkpoint
from src.i3d.network import BN_MOMENTUM, InceptionI3D, select_finetune_parameters


def build_training_network(mode, num_classes, finetune_num_classes, checkpoint_path, finetune_prefixes,
                           dropout_keep_prob, bn_momentum=BN_MOMENTUM):
    """(network, trainable parameters).

    With a pretrained checkpoint (whose head has `num_classes` outputs) the head is replaced by a
    `finetune_num_classes` one and only `finetune_prefixes` train; without one, a `finetune_num_classes` network
    trains entirely (the original trained a 400-way head from scratch, docs/differences.md#i3d-scratch-head).
    """
    if checkpoint_path:
        net = InceptionI3D(num_classes=num_classes, mode=mode, dropout_keep_prob=dropout_keep_prob,
                           bn_momentum=bn_momentum)
        naming = load_i3d_checkpoint(net, checkpoint_path)
        net.replace_logits(finetune_num_classes)
        params = select_finetune_parameters(net, finetune_prefixes)
        print(f"=> loaded {checkpoint_path} ({naming} naming, {mode}, {num_classes} classes); its head is replaced "
              f"by a new {finetune_num_classes}-class one; training {len(params)} parameters of "
              f"{finetune_prefixes or 'every layer'}", flush=True)
        return net, params
    net = InceptionI3D(num_classes=finetune_num_classes, mode=mode, dropout_keep_prob=dropout_keep_prob,
                       bn_momentum=bn_momentum)
    print("=> Train from scratch", flush=True)
    return net, select_finetune_parameters(net, "")


def build_optimizer(name, params, learning_rate, momentum, weight_decay):
    """adam | sgd | rmsprop, as the original's get_optimizer; `learning_rate` may be a per-step list."""
    if name == "adam":
        return nn.Adam(params, learning_rate=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return nn.SGD(params, learning_rate=learning_rate, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return nn.RMSProp(params, learning_rate=learning_rate, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r} (adam, sgd or rmsprop)")
