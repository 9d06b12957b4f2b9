"""ECO-lite's learning-rate rule: start at `lr`, divide by 10 after `num_saturate` evaluations without improvement.

The original checked the rule at the start of each epoch from the evaluation of the weights before it; here it runs after
each evaluation, which decides the same thing one call earlier. Differences from the original
(docs/differences.md#eco-lr-starts-at-lr, docs/differences.md#eco-same-lr-every-rank): the rate
starts at `lr` itself (the original started at lr * 0.01), an improvement means a strictly higher top-1 (a tie counts as
no improvement, as for the best checkpoint), and every rank takes the same decision because every rank observes the
same metrics (src/engine/drivers.py, make_evaluator).
"""
from src.engine.loop import EpochSchedule


class PlateauSchedule(EpochSchedule):
    """lr, lr/10, lr/100, ...: one division after every `num_saturate` observations in a row without a new best.

    `apply(lr)`, when given, puts the rate into the optimizer at the start of each epoch (e.g. set_data on its
    learning-rate Parameter, so a compiled graph keeps running without recompilation).
    """

    def __init__(self, lr, num_saturate, factor=0.1, metric="top1", apply=None):
        if num_saturate < 1:
            raise ValueError(f"num_saturate must be >= 1, got {num_saturate}")
        self.base_lr, self.num_saturate, self.factor, self.metric, self.apply = lr, num_saturate, factor, metric, apply
        self.lr, self.saturated, self.best, self.decays = lr, 0, None, 0

    def lr_for(self, epoch):
        return self.lr

    def begin_epoch(self, epoch):
        if self.apply is not None:
            self.apply(self.lr)

    def observe(self, metrics):
        value = metrics[self.metric]
        if self.best is None or value > self.best:
            self.best, self.saturated = value, 0
            return
        self.saturated += 1
        if self.saturated == self.num_saturate:
            self.saturated, self.decays = 0, self.decays + 1
            self.lr = self.base_lr * self.factor ** self.decays
            print(f"- Learning rate decreases by a factor of '{round(1 / self.factor ** self.decays)}': "
                  f"lr {self.lr:g} after {self.num_saturate} evaluation(s) without a better {self.metric}", flush=True)

    def state(self):
        return {"lr": self.lr, "saturated": self.saturated, "best": self.best, "decays": self.decays}

    def load_state(self, state):
        self.lr, self.saturated, self.best, self.decays = (state[key] for key in ("lr", "saturated", "best", "decays"))
