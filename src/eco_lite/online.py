"""ECO's online mode (Zolfaghari, Singh and Brox, "ECO: Efficient Convolutional Network for Online Video
Understanding", ECCV 2018, section "Online video understanding" and its Algorithm 1).

A working memory S_N of N frames (N: the network's segment count) stands for the whole stream seen so far. Incoming
frames queue in Q_N; when N have arrived, S_N keeps a random share of its frames (half in the paper), the rest is
filled with a random sample of Q_N, in temporal order, the queue is emptied, the network classifies S_N, and the
running prediction becomes the average of the new prediction and the previous one (P <- (P + P_N) / 2, on logits, as
evaluation averages clip logits). Old frames thus stay in the memory with a probability that halves at every update:
the memory covers the whole stream, densest near the present. The first N frames fill the memory as they are.

One network call per N frames. The RNG is seeded, so a stream gives the same predictions every time. No file IO: the
caller passes the network as `predict_batch` and `make_input(frames) -> clip`, the evaluation transform of the memory's
frames, so each update's network input is what an offline call on the same frames sees.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OnlineUpdate:
    """One prediction: the update's number (1 = the memory just filled), the stream's last frame number, the frame
    numbers in the working memory, the network's logits for them and the running average P."""
    number: int
    frame: int
    memory: tuple
    logits: np.ndarray
    average: np.ndarray


class OnlineECO:
    """The working memory and running prediction of one stream; push() every frame in order."""

    def __init__(self, predict_batch, make_input, memory_size, replace_fraction=0.5, seed=0):
        if memory_size < 1:
            raise ValueError(f"memory_size must be positive, got {memory_size}")
        if not 0 < replace_fraction <= 1:
            raise ValueError(f"replace_fraction must be in (0, 1], got {replace_fraction}")
        self.predict_batch, self.make_input, self.size = predict_batch, make_input, memory_size
        self.replace = max(1, round(memory_size * replace_fraction))
        self.rng = np.random.default_rng(seed)
        self.queue, self.memory = [], []  # (frame number, frame)
        self.average, self.updates, self.last_frame = None, 0, 0

    def push(self, number, frame):
        """Queue a frame; returns the OnlineUpdate when it completes N new frames, else None."""
        self.queue.append((number, frame))
        self.last_frame = number
        if len(self.queue) < self.size:
            return None
        if not self.memory:
            self.memory = self.queue
        else:
            keep = self._sample(self.memory, self.size - self.replace)
            self.memory = keep + self._sample(self.queue, self.replace)
        self.queue = []
        return self._predict()

    def finish(self):
        """At the end of a stream that never filled the memory: one update on its frames, looped to N (as evaluation
        loops a short video); None when there was an update already or no frame at all."""
        if self.updates or not self.queue:
            return None
        self.memory = [self.queue[position % len(self.queue)] for position in range(self.size)]
        self.queue = []
        return self._predict()

    def _sample(self, frames, count):
        """`count` of `frames` drawn without replacement, kept in temporal order."""
        picks = np.sort(self.rng.choice(len(frames), size=count, replace=False))
        return [frames[pick] for pick in picks]

    def _predict(self):
        clip = self.make_input(np.stack([frame for _, frame in self.memory]))
        logits = np.asarray(self.predict_batch(clip[None].astype(np.float32)))[0].astype(np.float32)
        self.average = logits if self.average is None else (self.average + logits) / 2
        self.updates += 1
        return OnlineUpdate(self.updates, self.last_frame, tuple(number for number, _ in self.memory), logits,
                            self.average)
