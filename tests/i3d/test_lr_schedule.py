"""The original's LR schedule: full traces with the defaults, replay, and per-step lists."""
import pytest

from src.i3d.schedule import lr_at_epoch, lr_per_epoch, lr_per_step

# LR after each boundary (end of epochs 5, 10, ...) with lr 0.01, rate 0.5, every 5 epochs, from the original's schedule.
RGB_AFTER_BOUNDARY = [0.005, 0.0025, 0.00125, 6.25e-4, 3.125e-4, 1.5625e-4, 7.8125e-5, 3.90625e-5]
FLOW_AFTER_BOUNDARY = RGB_AFTER_BOUNDARY + [2.5e-4, 1.25e-4, 6.25e-5, 3.125e-5]


def expected_trace(after_boundary, num_epochs):
    """0.01 for epochs 0-4, then each value for the next 5 epochs; the last entry is the value after the run."""
    return [0.01 if epoch < 5 else after_boundary[epoch // 5 - 1] for epoch in range(num_epochs + 1)]


def test_rgb_40_epochs_matches_the_spec_trace():
    trace = expected_trace(RGB_AFTER_BOUNDARY, 40)
    assert lr_per_epoch("rgb", 40) == pytest.approx(trace[:40], rel=1e-12)
    assert lr_at_epoch("rgb", 40) == pytest.approx(3.906e-5, rel=1e-3)  # set after epoch 40
    assert [lr_at_epoch("rgb", e) for e in (0, 4, 5, 9, 10, 39)] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025, 7.8125e-5], rel=1e-12)


def test_flow_60_epochs_matches_the_spec_trace_with_the_warm_restart():
    trace = expected_trace(FLOW_AFTER_BOUNDARY, 60)
    assert lr_per_epoch("flow", 60) == pytest.approx(trace[:60], rel=1e-12)
    assert lr_per_epoch("flow", 60)[:40] == lr_per_epoch("rgb", 40)
    assert lr_at_epoch("flow", 44) == pytest.approx(3.90625e-5, rel=1e-12)
    # restart to 1e-3 and two halvings in the same boundary
    assert lr_at_epoch("flow", 45) == pytest.approx(2.5e-4, rel=1e-12)
    assert lr_at_epoch("flow", 60) == pytest.approx(3.125e-5, rel=1e-12)


def test_every_epoch_is_the_replayed_value():
    for mode in ("rgb", "flow"):
        epochs = lr_per_epoch(mode, 80, base_lr=0.003, lr_de_rate=0.3, lr_de_epochs=3)
        assert [lr_at_epoch(mode, e, 0.003, 0.3, 3) for e in range(80)] == epochs


def test_rgb_stops_decaying_at_1e_5():
    assert lr_per_epoch("rgb", 4, base_lr=4e-5, lr_de_epochs=1) == pytest.approx([4e-5, 2e-5, 1e-5, 1e-5])


def test_flow_restarts_only_once_and_has_back_skips_the_restart():
    epochs = lr_per_epoch("flow", 7, base_lr=1e-4, lr_de_epochs=1)
    assert epochs == pytest.approx([1e-4, 5e-5, 2.5e-4, 1.25e-4, 6.25e-5, 3.125e-5, 3.125e-5])
    assert lr_per_epoch("flow", 4, base_lr=1e-4, lr_de_epochs=1, has_back=True) == pytest.approx(
        [1e-4, 5e-5, 5e-5, 5e-5])


def test_lr_per_step_repeats_each_epoch_and_can_start_mid_schedule():
    steps = lr_per_step("rgb", 12, 3)
    assert len(steps) == 36
    assert steps[:15] == [0.01] * 15 and steps[15:30] == [0.005] * 15 and steps[30:] == [0.0025] * 6
    assert lr_per_step("rgb", 12, 3, start_epoch=5) == steps[15:]


def test_lr_per_step_is_a_mindspore_dynamic_learning_rate():
    from mindspore import nn

    steps = lr_per_step("flow", 2, 2, lr_de_epochs=1)
    optimizer = nn.Adam(nn.Dense(2, 2).trainable_params(), learning_rate=steps)
    assert float(optimizer.get_lr().asnumpy()) == pytest.approx(0.01)


@pytest.mark.parametrize("call, message", [
    (lambda: lr_at_epoch("joint", 0), "mode must be"),
    (lambda: lr_at_epoch("rgb", -1), "epoch must be"),
    (lambda: lr_per_epoch("rgb", 5, lr_de_epochs=0), "lr_de_epochs"),
    (lambda: lr_per_epoch("rgb", 5, base_lr=0), "base_lr"),
    (lambda: lr_per_step("rgb", 5, 0), "steps_per_epoch"),
    (lambda: lr_per_step("rgb", 5, 2, start_epoch=5), "start_epoch"),
])
def test_invalid_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
