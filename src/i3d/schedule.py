"""The original's step learning-rate schedule for I3D fine-tuning, as pure functions of the epoch.

The original changed the LR in a callback at the end of every `lr_de_epochs`-th epoch, mutating state as it went (the
flow stream's `has_back` flag). Here the boundaries are replayed from epoch 0, so the LR of any epoch follows from the
options alone and a resumed run continues with exactly the value the uninterrupted run would have had.

At each boundary:
- rgb: the LR is multiplied by `lr_de_rate` while it is above 1e-5;
- flow, before its warm restart: an LR at or below 5e-5 jumps back to 1e-3 (the restart); then, in the same step, an
  LR above 5e-5 is multiplied by the rate, and once restarted it is multiplied again (so the restart lands at 2.5e-4
  with the defaults); after the restart only the second multiplication applies, while the LR is above 5e-5.
With the defaults (0.01, 0.5, every 5 epochs) rgb halves down to 3.906e-5 after epoch 40; flow follows it to epoch 40,
restarts to 2.5e-4 after epoch 45, then 1.25e-4, 6.25e-5, 3.125e-5.
"""
RGB_MIN_LR = 1e-5
FLOW_RESTART_BELOW = 5e-5
FLOW_RESTART_LR = 1e-3


def _boundary(mode, lr, rate, has_back):
    """One decay step of the original's callback; returns (lr, has_back)."""
    if mode == "rgb":
        return (lr * rate if lr > RGB_MIN_LR else lr), has_back
    if not has_back:
        if lr <= FLOW_RESTART_BELOW:
            lr, has_back = FLOW_RESTART_LR, True
        if lr > FLOW_RESTART_BELOW:
            lr *= rate
    if has_back and lr > FLOW_RESTART_BELOW:
        lr *= rate
    return lr, has_back


def lr_per_epoch(mode, num_epochs, base_lr=0.01, lr_de_rate=0.5, lr_de_epochs=5, has_back=False):
    """The LR used during each (0-based) epoch 0..num_epochs-1.

    `has_back=True` starts the flow schedule as if its warm restart had already happened (the original's --has_back).
    """
    if mode not in ("rgb", "flow"):
        raise ValueError(f"mode must be 'rgb' or 'flow', got {mode!r}")
    if num_epochs < 0:
        raise ValueError(f"num_epochs must be >= 0, got {num_epochs}")
    if lr_de_epochs < 1:
        raise ValueError(f"lr_de_epochs must be >= 1, got {lr_de_epochs}")
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr}")
    lrs, lr = [], float(base_lr)
    for epoch in range(num_epochs):
        if epoch and epoch % lr_de_epochs == 0:
            lr, has_back = _boundary(mode, lr, lr_de_rate, has_back)
        lrs.append(lr)
    return lrs


def lr_at_epoch(mode, epoch, base_lr=0.01, lr_de_rate=0.5, lr_de_epochs=5, has_back=False):
    """The LR used during 0-based `epoch`; `epoch == num_epochs` gives the value the original set after its last epoch."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    return lr_per_epoch(mode, epoch + 1, base_lr, lr_de_rate, lr_de_epochs, has_back)[epoch]


def lr_per_step(mode, num_epochs, steps_per_epoch, base_lr=0.01, lr_de_rate=0.5, lr_de_epochs=5, has_back=False,
                start_epoch=0):
    """Per-step LRs for epochs start_epoch..num_epochs-1, e.g. `nn.Adam(params, learning_rate=lr_per_step(...))`.

    MindSpore indexes a list LR by the optimizer's global step, so a run resumed with its restored global step
    should pass start_epoch=0; a fresh optimizer starting mid-schedule passes the epoch it starts at.
    """
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    if not 0 <= start_epoch < num_epochs:
        raise ValueError(f"start_epoch must be in 0..{num_epochs - 1}, got {start_epoch}")
    epochs = lr_per_epoch(mode, num_epochs, base_lr, lr_de_rate, lr_de_epochs, has_back)[start_epoch:]
    return [lr for lr in epochs for _ in range(steps_per_epoch)]
