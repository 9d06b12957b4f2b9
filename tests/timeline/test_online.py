"""ECO-lite's online mode (src/eco_lite/online.py): the paper's working-memory update, and each update's prediction
equal to an offline call of the same network on the same frames."""
import numpy as np
import pytest

from src.data.eco_dataset import eco_transforms
from src.eco_lite.online import OnlineECO
from src.timeline import VideoStream, clip_maker, run_online
from src.video_inference import decode_video, memory_clip_loader

ECO_LAYOUT = (0, 3, 1, 2)


def frame_number_input(frames):
    """make_input for the algorithm tests: frames are their own numbers."""
    return np.asarray(frames, np.float32)


def test_memory_fills_then_keeps_half_in_order():
    seen = []

    def predict(batch):
        seen.append(batch[0].copy())
        return np.array([[batch[0].sum(), 0.0]])

    online = OnlineECO(predict, frame_number_input, memory_size=8, seed=3)
    updates = [update for number in range(1, 42) if (update := online.push(number, number)) is not None]
    assert [update.frame for update in updates] == [8, 16, 24, 32, 40]  # one prediction per N new frames
    assert updates[0].memory == tuple(range(1, 9))  # the first N frames fill the memory as they are
    for previous, update in zip(updates, updates[1:]):
        memory = update.memory
        assert list(memory) == sorted(memory) and len(set(memory)) == 8  # temporal order, no repeats
        assert len(set(memory) & set(previous.memory)) == 4  # half kept ...
        assert sum(update.frame - 8 < number <= update.frame for number in memory) == 4  # ... half from the queue
    for update, batch in zip(updates, seen):
        assert update.memory == tuple(batch.astype(int))  # the network saw exactly the memory's frames
    average = updates[0].logits
    for update in updates[1:]:
        average = (average + update.logits) / 2
        np.testing.assert_allclose(update.average, average)
    again = OnlineECO(predict, frame_number_input, memory_size=8, seed=3)
    assert [u.memory for n in range(1, 42) if (u := again.push(n, n))] == [u.memory for u in updates]  # seeded


def test_share_replaced_and_short_stream():
    online = OnlineECO(lambda batch: np.zeros((1, 2)), frame_number_input, memory_size=4, replace_fraction=0.25)
    updates = [u for n in range(1, 13) if (u := online.push(n, n))]
    assert len(set(updates[0].memory) & set(updates[1].memory)) == 3
    short = OnlineECO(lambda batch: np.ones((1, 2)), frame_number_input, memory_size=4)
    assert short.push(1, 1) is None and short.push(2, 2) is None
    assert short.finish().memory == (1, 2, 1, 2)  # looped, as evaluation loops a short video
    assert short.finish() is None
    with pytest.raises(ValueError):
        OnlineECO(lambda batch: batch, frame_number_input, memory_size=4, replace_fraction=0)


def test_online_predictions_equal_offline_calls_on_the_same_frames(sample_clips, pynative_mode):
    """A real (random-init) ECO-lite: every update's input and logits equal the offline path's (demo.py's decoded
    frames, the evaluation transforms) on the memory's frames; the running prediction is their running mean."""
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.predictor import mindspore_predictor

    ms.set_seed(7)
    predict = mindspore_predictor(ECOLite(3, 4))
    inputs = []

    def recording(batch):
        inputs.append(batch.copy())
        return predict(batch)

    video = sample_clips["videos"] / "MoveDown/v_MoveDown_g02_c01.avi"
    make_input = clip_maker(eco_transforms(False, 32), ECO_LAYOUT, stack_channels=True)
    summary = run_online(VideoStream(video), OnlineECO(recording, make_input, 4, seed=1), short_side=0)
    assert [update.frame for update in summary.updates] == [4, 8, 12, 16] and summary.frames == 16

    frames, _, _ = decode_video(video, 0)
    offline = memory_clip_loader(frames, eco_transforms(False, 32), ECO_LAYOUT, stack_channels=True)
    average = None
    for update, seen in zip(summary.updates, inputs):
        clip = offline(update.memory, None)[None]
        np.testing.assert_array_equal(seen, clip)
        logits = predict(clip)[0]
        np.testing.assert_allclose(update.logits, logits, rtol=0, atol=1e-6)
        average = logits if average is None else (average + logits) / 2
        np.testing.assert_allclose(update.average, average, rtol=0, atol=1e-6)
