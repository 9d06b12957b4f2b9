"""src/evaluation/ and src/data/multicrop.py without a network: metrics, batching, averaging, fusion, pairing,
saved scores, the fixed-input check and three-crop sources."""
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from src.data.annotations import build_annotation, write_annotation
from src.data.multicrop import ThreeCrop, ThreeCropSource, three_crop_transform
from src.data.transforms import CenterCrop, Compose
from src.data.video_io import write_jpeg
from src.evaluation import (EvalResult, EvaluationError, confusion_matrix, evaluate_joint, evaluate_stream, fuse,
                            fuse_saved_scores, load_scores, mean_class_accuracy, pair_by_key, predict_logits,
                            save_scores, scores_paths, softmax, top_k_accuracy)
from src.evaluation.__main__ import main
from src.evaluation.scoring import video_scores
from src.i3d.recipe import build_eval_source, check_fixed_input

NUM_CLASSES = 4


class FakeSource:
    """Items whose clip encodes the item index; labels, keys and video_index as an evaluation source has them."""

    def __init__(self, video_index, labels, keys):
        self.video_index, self.labels, self.video_keys = list(video_index), list(labels), list(keys)
        self.loaded = []

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        self.loaded.append(index)
        return np.full((1, 2, 2, 2), index, np.float32), np.int32(self.labels[index]), np.int32(index)


def one_hot_predictor(batch_size, calls):
    """A fixed-batch model: asserts its batch size; scores item i as class i % NUM_CLASSES, with value i."""
    def predict(clips):
        assert clips.shape == (batch_size, 1, 2, 2, 2) and clips.dtype == np.float32
        calls.append(clips[:, 0, 0, 0, 0].astype(int).tolist())
        ids = clips[:, 0, 0, 0, 0].astype(int)
        scores = np.zeros((len(clips), NUM_CLASSES), np.float32)
        scores[np.arange(len(clips)), ids % NUM_CLASSES] = ids + 1
        return scores
    return predict


# ---------------------------------------------------------------------------------------------------- metrics

def test_top_k_accuracy_counts_ties_as_argmax_and_caps_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.9, 0.05, 0.05], [0.2, 0.2, 0.6]])
    labels = np.array([1, 0, 2, 1])
    assert top_k_accuracy(scores, labels, 1) == 0.25          # only row 0
    # k = 2: rows 0, 1 hit; row 2 misses; row 3's label 1 ties with class 0, which ranks first (as in argmax)
    assert top_k_accuracy(scores, labels, 2) == 0.5
    assert top_k_accuracy(scores, labels, 3) == 1.0
    assert top_k_accuracy(scores, labels, 5) == 1.0           # k above the class count


def test_mean_class_accuracy_weights_classes_equally():
    labels = np.array([0, 0, 0, 1, 2, 2])
    predictions = np.array([0, 0, 0, 0, 2, 1])
    scores = np.eye(4)[predictions]                            # class 3 never occurs: not averaged in
    assert mean_class_accuracy(scores, labels) == pytest.approx((1 + 0 + 0.5) / 3)
    assert top_k_accuracy(scores, labels, 1) == pytest.approx(4 / 6)


def test_confusion_matrix_rows_are_true_labels():
    matrix = confusion_matrix([0, 0, 0, 0, 2, 1], [0, 0, 0, 1, 2, 2], 3)
    assert matrix.tolist() == [[3, 0, 0], [1, 0, 0], [0, 1, 1]]


def test_softmax_is_stable_and_normalised():
    probabilities = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), -np.inf]]))
    np.testing.assert_allclose(probabilities, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], atol=1e-12)


# ------------------------------------------------------------------------------------------------ scoring

@pytest.mark.parametrize("num_items, batch_size", [(7, 3), (6, 3), (2, 4), (1, 1)])
def test_predict_logits_pads_the_last_batch_and_scores_every_item_once(num_items, batch_size):
    source = FakeSource(range(num_items), [0] * num_items, [f"v{i}" for i in range(num_items)])
    calls = []
    scores = predict_logits(one_hot_predictor(batch_size, calls), source, batch_size, num_workers=2)
    assert scores.shape == (num_items, NUM_CLASSES) and scores.dtype == np.float32
    np.testing.assert_array_equal(scores.argmax(axis=1), np.arange(num_items) % NUM_CLASSES)
    np.testing.assert_array_equal(scores.max(axis=1), np.arange(num_items) + 1)
    assert len(calls) == -(-num_items // batch_size)
    assert sorted(source.loaded) == list(range(num_items))     # each item loaded once; padding repeats in memory
    last = calls[-1]
    assert last[:num_items - (len(calls) - 1) * batch_size] == list(range((len(calls) - 1) * batch_size, num_items))
    assert set(last[num_items - (len(calls) - 1) * batch_size:]) <= {num_items - 1}


def test_predict_logits_rejects_a_model_with_the_wrong_output_shape():
    source = FakeSource(range(3), [0, 0, 0], ["a", "b", "c"])
    with pytest.raises(EvaluationError, match=r"shape \(2, 4, 1\)"):
        predict_logits(lambda clips: np.zeros((len(clips), 4, 1)), source, 2)


def test_video_scores_averages_each_videos_items():
    items = np.array([[1, 0], [3, 2], [5, 5], [0, 4]], np.float32)
    np.testing.assert_allclose(video_scores(items, [0, 0, 1, 0], 2), [[4 / 3, 2], [5, 5]])
    with pytest.raises(EvaluationError):
        video_scores(items, [0, 0, 2, 0], 3)                   # video 1 has no items


def test_evaluate_stream_averages_clips_per_video():
    # 3 videos x 2 clips: items 2v, 2v+1 belong to video v.
    source = FakeSource([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1], ["a", "a", "b", "b", "c", "c"])
    result = evaluate_stream(one_hot_predictor(4, []), source, batch_size=4)
    assert result.keys == ("a", "b", "c")
    assert result.labels.tolist() == [0, 1, 1]
    np.testing.assert_allclose(result.scores, [[0.5, 1, 0, 0], [0, 0, 1.5, 2], [2.5, 3, 0, 0]])
    assert result.top1 == pytest.approx(1 / 3)                 # predictions: a -> 1, b -> 3, c -> 1
    assert result.top5 == 1.0
    assert result.mean_class_accuracy == pytest.approx((0 + 0.5) / 2)


# --------------------------------------------------------------------------------------------------- fusion

def test_fusion_rules():
    rgb = np.array([[2.0, 0.0], [0.0, 1.0]], np.float32)
    flow = np.array([[0.0, 4.0], [1.0, 0.0]], np.float32)
    np.testing.assert_allclose(fuse(rgb, flow), [[2, 4], [1, 1]])
    np.testing.assert_allclose(fuse(rgb, flow, "weighted", (1.0, 0.25)), [[2, 1], [0.25, 1]])
    expected = (softmax(rgb) + softmax(flow)) / 2
    np.testing.assert_allclose(fuse(rgb, flow, "softmax_avg"), expected, rtol=1e-6)
    np.testing.assert_allclose(fuse(rgb, flow, "softmax_avg").sum(axis=1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="fusion must be one of"):
        fuse(rgb, flow, "max")
    with pytest.raises(EvaluationError):
        fuse(rgb, flow[:1])


def test_pair_by_key_aligns_streams_listed_in_different_orders():
    rgb_positions, flow_positions = pair_by_key(["a", "b", "c"], ["c", "a", "b"])
    assert rgb_positions.tolist() == [0, 1, 2] and flow_positions.tolist() == [1, 2, 0]


def test_pair_by_key_names_unpaired_keys_or_warns_under_skip_missing():
    with pytest.raises(EvaluationError, match=r"only in the rgb stream: b.*only in the flow stream: z"):
        pair_by_key(["a", "b", "c"], ["c", "a", "z"])
    with pytest.warns(UserWarning, match="only in the rgb stream: b"):
        rgb_positions, flow_positions = pair_by_key(["a", "b", "c"], ["c", "a"], skip_missing=True)
    assert rgb_positions.tolist() == [0, 2] and flow_positions.tolist() == [1, 0]
    with pytest.raises(EvaluationError, match="more than once: a"):
        pair_by_key(["a", "a"], ["a"])
    with pytest.raises(EvaluationError, match="no video in common"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pair_by_key(["a"], ["b"], skip_missing=True)


def result(keys, labels, scores):
    return EvalResult.from_scores(keys, labels, np.asarray(scores, np.float32))


def test_evaluate_joint_fuses_by_key_not_by_position():
    rgb = result(["a", "b", "c"], [0, 1, 2], [[3, 0, 0], [0, 1, 0], [2, 0, 1]])
    flow = result(["c", "a", "b"], [2, 0, 1], [[0, 0, 5], [1, 0, 0], [2, 0, 0]])
    joint = evaluate_joint(rgb, flow)
    assert joint.keys == ("a", "b", "c")
    np.testing.assert_allclose(joint.scores, [[4, 0, 0], [2, 1, 0], [2, 0, 6]])
    assert joint.labels.tolist() == [0, 1, 2] and joint.top1 == pytest.approx(2 / 3)
    relabelled = result(["c", "a", "b"], [2, 0, 0], flow.scores)
    with pytest.raises(EvaluationError, match=r"label 1 video\(s\) differently: b \(rgb 1, flow 0\)"):
        evaluate_joint(rgb, relabelled)


# --------------------------------------------------------------------------------------------- saved scores

def test_saved_scores_round_trip_and_offline_fusion(tmp_path, capsys):
    rgb = result(["a", "b", "c"], [0, 1, 2], [[3, 0, 0], [0, 1, 0], [2, 0, 1]])
    flow = result(["c", "a", "b"], [2, 0, 1], [[0, 0, 5], [1, 0, 0], [2, 0, 0]])
    classes = ["jump", "run", "walk"]
    paths = scores_paths(tmp_path / "out" / "scores.npz", ("rgb", "flow", "joint"))
    assert [p.name for p in paths.values()] == ["scores_rgb.npz", "scores_flow.npz", "scores_joint.npz"]
    assert scores_paths("s.npz", ("rgb",)) == {"rgb": Path("s.npz")}
    save_scores(paths["rgb"], rgb, classes)
    save_scores(paths["flow"], flow, classes)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scores_flow.npz", "scores_rgb.npz"]
    loaded, loaded_classes = load_scores(paths["rgb"])
    assert loaded_classes == classes and loaded.keys == rgb.keys
    np.testing.assert_array_equal(loaded.scores, rgb.scores)
    assert loaded.top1 == rgb.top1

    joint = fuse_saved_scores(paths["rgb"], paths["flow"], "weighted", (1.0, 2.0))
    np.testing.assert_array_equal(joint.scores, evaluate_joint(rgb, flow, "weighted", (1.0, 2.0)).scores)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"rgb accuracy: {rgb.top1:.4f}" and lines[-3] == f"joint accuracy: {joint.top1:.4f}"
    assert main([str(paths["rgb"]), str(paths["flow"]), "--fusion", "softmax_avg"]) == 0
    assert "joint mean class accuracy: " in capsys.readouterr().out


def test_load_scores_rejects_other_files(tmp_path, capsys):
    np.save(tmp_path / "plain.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", scores=np.zeros((2, 2)))
    (tmp_path / "text.npz").write_text("not numpy")
    for name in ("plain.npy", "other.npz", "text.npz", "absent.npz"):
        with pytest.raises(EvaluationError, match=name):
            load_scores(tmp_path / name)
    assert main([str(tmp_path / "other.npz"), str(tmp_path / "other.npz")]) == 1
    assert "not a scores file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- fixed input shape

def test_check_fixed_input_adopts_the_batch_and_rejects_other_mismatches(capsys):
    assert check_fixed_input([8, 3, 64, 224, 224], "rgb", 8, 64, 224, "m.onnx") == 8
    assert check_fixed_input([2, 2, 64, 224, 224], "flow", 8, 64, 224, "m.onnx") == 2
    assert "fixed batch of 2" in capsys.readouterr().err
    assert check_fixed_input(["batch", 3, 64, 224, 224], "rgb", 5, 64, 224, "m.onnx") == 5
    with pytest.raises(EvaluationError, match="3-channel input .* flow clips have 2 channels"):
        check_fixed_input([8, 3, 64, 224, 224], "flow", 8, 64, 224, "m.onnx")
    with pytest.raises(EvaluationError, match="--test_sample_duration=32; pass --test_sample_duration=64"):
        check_fixed_input([8, 3, 64, 224, 224], "rgb", 8, 32, 224, "m.onnx")
    with pytest.raises(EvaluationError, match="--spatial_size=112; pass --spatial_size=224"):
        check_fixed_input([8, 3, 64, 224, 224], "rgb", 8, 64, 112, "m.onnx")
    with pytest.raises(EvaluationError, match="not \\(N, C, T, H, W\\)"):
        check_fixed_input([8, 3, 224, 224], "rgb", 8, 64, 224, "m.onnx")


# ----------------------------------------------------------------------------------------------- three crops

def test_three_crop_positions_on_landscape_and_portrait_frames():
    landscape = np.arange(2 * 4 * 10 * 1).reshape(2, 4, 10, 1)
    crops = [ThreeCrop(4, p)(landscape) for p in range(3)]
    assert [c[0, 0, :, 0].tolist() for c in crops] == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    portrait = landscape.transpose(0, 2, 1, 3)                  # 10 x 4
    assert [ThreeCrop(4, p)(portrait)[0, :, 0, 0].tolist() for p in range(3)] == \
        [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    with pytest.raises(ValueError, match="smaller than the crop"):
        ThreeCrop(5, 0)(landscape)
    with pytest.raises(ValueError, match="position"):
        ThreeCrop(4, 3)
    with pytest.raises(ValueError, match="starts with ResizeShortSide, CenterCrop"):
        three_crop_transform(Compose([CenterCrop(4)]), 4, 0)


@pytest.fixture(scope="module")
def frame_tree(module_mktemp):
    """Two validation videos of 32x48 frames (a horizontal colour ramp, so crops differ), one annotation."""
    root = module_mktemp("frames")
    videos = [("jump", "v_jump_g01", 6), ("run", "v_run_g01", 5)]
    ramp = np.repeat(np.linspace(0, 255, 48, dtype=np.uint8)[None, :, None], 32, axis=0)
    for class_name, key, n_frames in videos:
        folder = root / "rgb" / class_name / key
        folder.mkdir(parents=True)
        for index in range(1, n_frames + 1):
            write_jpeg(folder / f"image_{index:05d}.jpg", np.concatenate([ramp, 255 - ramp, ramp // 2 + index], 2))
        (folder / "n_frames").write_text(f"{n_frames}\n")
    annotation = build_annotation(["jump", "run"], [(c, k + ".avi", "validation") for c, k, _ in videos],
                                  {(c, k): n for c, k, n in videos})
    write_annotation(root / "annotation.json", annotation)
    return root


def test_three_crop_source_items_are_the_three_crops_of_each_clip(frame_tree):
    plain = build_eval_source(frame_tree / "rgb", frame_tree / "annotation.json", "rgb", 4, 32, num_clips=2)
    source = build_eval_source(frame_tree / "rgb", frame_tree / "annotation.json", "rgb", 4, 32, num_clips=2,
                               num_crops=3)
    assert isinstance(source, ThreeCropSource) and len(source) == 3 * len(plain) == 12
    assert source.video_index == [0] * 6 + [1] * 6
    assert source.video_keys == ["v_jump_g01"] * 6 + ["v_run_g01"] * 6 and source.labels == [0] * 6 + [1] * 6
    assert source.num_classes == 2
    clip, label, index = source[7]                             # video 1, clip 0, centre crop
    assert clip.shape == (3, 4, 32, 32) and int(label) == 1 and int(index) == 7
    frames = plain.frame_indices(2, None)
    decoded = [cv2.imread(str(frame_tree / "rgb/run/v_run_g01" / f"image_{i:05d}.jpg")) for i in frames]
    for position, left in enumerate((0, 8, 16)):              # frames already have short side 32: no resize
        expected = np.stack([f[:, left:left + 32, ::-1] for f in decoded]).astype(np.float32) / 255 * 2 - 1
        np.testing.assert_allclose(source[6 + position][0], expected.transpose(3, 0, 1, 2), atol=1e-6)
    with pytest.raises(ValueError, match="evaluation source"):
        ThreeCropSource(type("Train", (), {"train": True})(), 32)
