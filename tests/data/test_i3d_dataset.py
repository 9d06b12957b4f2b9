"""I3D clip dataset on tiny generated frame trees, and the shared pipeline (sharding, MindSpore batches)."""
import cv2
import numpy as np
import pytest

from src.data.annotations import AnnotationError, build_annotation, write_annotation
from src.data.frames import FrameFolderError
from src.data.i3d_dataset import I3DClipDataset
from src.data.pipeline import epoch_batches, iterate_batches, shard_indices
from src.data.temporal import multi_clip_starts, temporal_window
from src.data.video_io import VideoReadError, write_jpeg
from tests.helpers import run_cli

CLASSES = ["jump", "run"]
VIDEOS = [  # (class, key, rgb frames, subset)
    ("jump", "v_jump_g01", 12, "training"),
    ("run", "v_run_g01", 10, "training"),
    ("run", "v_run_g02", 5, "training"),
    ("jump", "v_jump_g02", 9, "validation"),
    ("run", "v_run_g03", 16, "validation"),
]
FLOW_X, FLOW_Y = 60, 200          # uniform flow images: x and y stay recognisable after any crop
DURATION, SIZE = 8, 16


def textured_frame(key, index, height=32, width=40):
    seed = [sum(map(ord, key)), index]
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def make_tree(root, videos=VIDEOS, rgb_frame=textured_frame):
    """rgb and flow roots (flow has n - 1 images per video) and one annotation JSON for both."""
    for class_name, key, n_frames, _ in videos:
        rgb_dir, flow_dir = root / "rgb" / class_name / key, root / "flow" / class_name / key
        rgb_dir.mkdir(parents=True)
        flow_dir.mkdir(parents=True)
        for index in range(1, n_frames + 1):
            write_jpeg(rgb_dir / f"image_{index:05d}.jpg", rgb_frame(key, index))
        for index in range(1, n_frames):
            write_jpeg(flow_dir / f"image_{index:05d}x.jpg", np.full((32, 40), FLOW_X, np.uint8))
            write_jpeg(flow_dir / f"image_{index:05d}y.jpg", np.full((32, 40), FLOW_Y, np.uint8))
        (rgb_dir / "n_frames").write_text(f"{n_frames}\n")
        (flow_dir / "n_frames").write_text(f"{n_frames - 1}\n")
    annotation = build_annotation(CLASSES, [(c, key + ".avi", subset) for c, key, _, subset in videos],
                                  {(c, key): n for c, key, n, _ in videos})
    write_annotation(root / "annotation.json", annotation)
    return root / "rgb", root / "flow", root / "annotation.json"


@pytest.fixture(scope="module")
def tree(module_mktemp):
    return make_tree(module_mktemp("i3d"))


def dataset(tree, mode="rgb", train=True, **kwargs):
    rgb_root, flow_root, annotation = tree
    subset = "training" if train else "validation"
    return I3DClipDataset(rgb_root if mode == "rgb" else flow_root, annotation, subset, mode, DURATION, train,
                          spatial_size=SIZE, **kwargs)



@pytest.mark.parametrize("mode, channels", [("rgb", 3), ("flow", 2)])
@pytest.mark.parametrize("train", [True, False])
def test_items_have_the_documented_shapes_types_and_range(tree, mode, channels, train):
    source = dataset(tree, mode, train)
    assert len(source) == (3 if train else 2)
    clip, label, index = source[1]
    assert clip.shape == (channels, DURATION, SIZE, SIZE) and clip.dtype == np.float32
    assert clip.flags.c_contiguous
    assert -1.0 <= clip.min() and clip.max() <= 1.0
    assert label.dtype == np.int32 and label.shape == () and int(label) == 1
    assert index.dtype == np.int32 and int(index) == 1


def test_json_order_keys_labels_and_classes(tree):
    source = dataset(tree)
    assert source.video_keys == ["v_jump_g01", "v_run_g01", "v_run_g02"]
    assert source.labels == [0, 1, 1]
    assert source.class_names == CLASSES and source.num_classes == 2


def test_rgb_is_in_rgb_order(tmp_path):
    def red(key, index):
        frame = np.zeros((32, 40, 3), np.uint8)
        frame[..., 2] = 255                                       # BGR: pure red
        return frame
    red_tree = make_tree(tmp_path, rgb_frame=red)
    for train in (True, False):
        clip = dataset(red_tree, "rgb", train)[0][0]
        assert clip[0].min() > 0.9                                # R
        assert clip[1:].max() < -0.9                              # G, B


def test_flow_reads_its_own_frame_count(tree, read_log):
    source = dataset(tree, "flow", train=False)
    assert [video.n_frames for video in source.videos] == [8, 15]
    source[1]
    centre = temporal_window(15, multi_clip_starts(15, DURATION, 1)[0], DURATION)
    assert sorted(read_log) == sorted(f"image_{i:05d}{axis}.jpg" for i in centre for axis in "xy")


def test_flow_flip_negates_x_only(tree):
    source = dataset(tree, "flow")
    x_values, y_values = set(), set()
    for epoch in range(12):
        clip = source.get_item(0, epoch)[0]
        x_values.add(round(float(clip[0].mean()), 3))
        y_values.add(round(float(clip[1].mean()), 3))
    x = FLOW_X / 255 * 2 - 1
    assert x_values == {round(x, 3), round(-x, 3)}
    assert y_values == {round(FLOW_Y / 255 * 2 - 1, 3)}


def test_augmentation_depends_only_on_seed_epoch_and_index(tree):
    first, again = dataset(tree, seed=3), dataset(tree, seed=3)
    for index in range(len(first)):
        assert np.array_equal(first.get_item(index, 2)[0], again.get_item(index, 2)[0])
    first.set_epoch(2)
    assert np.array_equal(first[1][0], again.get_item(1, 2)[0])
    epochs = [first.get_item(0, epoch)[0] for epoch in range(4)]
    assert any(not np.array_equal(epochs[0], other) for other in epochs[1:])
    assert not np.array_equal(dataset(tree, seed=4).get_item(0, 2)[0], first.get_item(0, 2)[0])


def test_evaluation_does_not_depend_on_the_epoch(tree):
    source = dataset(tree, train=False)
    assert np.array_equal(source.get_item(1, 0)[0], source.get_item(1, 7)[0])


def test_multi_clip_items_and_video_index(tree, read_log):
    source = dataset(tree, train=False, num_clips=3)
    assert len(source) == 6
    assert source.video_index == [0, 0, 0, 1, 1, 1]
    assert source.video_keys == ["v_jump_g02"] * 3 + ["v_run_g03"] * 3
    assert source.labels == [0, 0, 0, 1, 1, 1]
    for clip in range(3):
        read_log.clear()
        source[3 + clip]
        window = temporal_window(16, multi_clip_starts(16, DURATION, 3)[clip], DURATION)
        assert read_log == [f"image_{i:05d}.jpg" for i in window]
    with pytest.raises(ValueError, match="num_clips"):
        dataset(tree, train=True, num_clips=3)


def test_a_looped_short_video_decodes_each_frame_once(tree, read_log):
    source = dataset(tree, "rgb")
    clip = source[2][0]                                           # 5 frames looped to 8
    assert sorted(read_log) == [f"image_{i:05d}.jpg" for i in range(1, 6)]
    assert np.array_equal(clip[:, 5:], clip[:, :3])               # frames 1..3 repeat
    read_log.clear()
    dataset(tree, "flow")[2]                                      # 4 flow frames looped to 8
    assert sorted(read_log) == sorted(f"image_{i:05d}{axis}.jpg" for i in range(1, 5) for axis in "xy")


@pytest.mark.parametrize("mode", ["rgb", "flow"])
def test_clip_equals_transforming_every_frame_of_the_window(tree, mode):
    # load_clip transforms distinct frames, then repeats and rearranges them: it must match the plain way.
    source = dataset(tree, mode)
    for index in range(len(source)):
        rng = np.random.default_rng([source.seed, 3, index])
        video = source.videos[index]
        window = source.frame_indices(index, rng)
        frames = np.stack([np.dstack([cv2.imread(str(video.path / template.format(i)),
                                                 cv2.IMREAD_GRAYSCALE if source.grayscale else cv2.IMREAD_COLOR)
                                      for template in source.templates]) for i in window])
        expected = source.value_transform(source.frame_transform(frames, rng), rng).transpose(3, 0, 1, 2)
        assert np.array_equal(source.get_item(index, 3)[0], expected)


def test_missing_folder_is_an_error_naming_it(tmp_path):
    rgb_root, _, annotation = make_tree(tmp_path, VIDEOS[:2])
    for path in (rgb_root / "jump" / "v_jump_g01").iterdir():
        path.unlink()
    (rgb_root / "jump" / "v_jump_g01").rmdir()
    with pytest.raises(FrameFolderError, match=r"jump/v_jump_g01: frame folder of video 'v_jump_g01' is missing"):
        I3DClipDataset(rgb_root, annotation, "training", "rgb", DURATION, True)


def test_missing_n_frames_is_an_error_naming_it(tmp_path):
    rgb_root, _, annotation = make_tree(tmp_path, VIDEOS[:2])
    (rgb_root / "run" / "v_run_g01" / "n_frames").unlink()
    with pytest.raises(FrameFolderError, match=r"run/v_run_g01/n_frames: missing"):
        I3DClipDataset(rgb_root, annotation, "training", "rgb", DURATION, True)


def test_missing_or_corrupt_frame_fails_at_load_naming_the_file(tmp_path):
    rgb_root, _, annotation = make_tree(tmp_path, VIDEOS[:2])
    source = I3DClipDataset(rgb_root, annotation, "training", "rgb", 16, False, spatial_size=SIZE)
    (rgb_root / "jump" / "v_jump_g01" / "image_00007.jpg").unlink()
    with pytest.raises(VideoReadError, match=r"v_jump_g01/image_00007.jpg: frame is missing"):
        source[0]
    (rgb_root / "run" / "v_run_g01" / "image_00003.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VideoReadError, match=r"v_run_g01/image_00003.jpg: frame is unreadable"):
        source[1]


def test_skip_missing_leaves_videos_out_with_one_warning(tmp_path, recwarn):
    rgb_root, _, annotation = make_tree(tmp_path, VIDEOS[:3])
    (rgb_root / "run" / "v_run_g01" / "n_frames").unlink()
    (rgb_root / "run" / "v_run_g02" / "n_frames").write_text("0\n")
    source = I3DClipDataset(rgb_root, annotation, "training", "rgb", DURATION, True, skip_missing=True)
    assert source.video_keys == ["v_jump_g01"]
    warned = [str(warning.message) for warning in recwarn if "cannot be loaded" in str(warning.message)]
    assert len(warned) == 1
    message = warned[0]
    assert "left out 2 video(s)" in message and "v_run_g01/n_frames" in message and "v_run_g02: has 0" in message


def test_subset_and_mode_are_checked(tree, tmp_path):
    rgb_root, _, annotation = tree
    with pytest.raises(ValueError, match="mode"):
        I3DClipDataset(rgb_root, annotation, "training", "depth", DURATION, True)
    with pytest.raises(ValueError, match="subset"):
        I3DClipDataset(rgb_root, annotation, "testing", "rgb", DURATION, True)
    only_training = tmp_path / "training.json"
    write_annotation(only_training, build_annotation(CLASSES, [("jump", "v_jump_g01.avi", "training")],
                                                     {("jump", "v_jump_g01"): 12}))
    with pytest.raises(AnnotationError, match="no videos of subset 'validation'"):
        I3DClipDataset(rgb_root, only_training, "validation", "rgb", DURATION, False)


def test_data_modules_do_not_import_mindspore():
    code = ("import sys, src.data.pipeline, src.data.i3d_dataset, src.data.eco_dataset, src.data.transforms, "
            "src.data.temporal; assert 'mindspore' not in sys.modules, 'mindspore imported'")
    run_cli(["-c", code])


def test_shards_are_disjoint_complete_and_seeded():
    shards = [shard_indices(11, True, 3, shard, seed=5, epoch=2) for shard in range(3)]
    assert sorted(np.concatenate(shards).tolist()) == list(range(11))
    assert np.array_equal(shards[0], shard_indices(11, True, 3, 0, seed=5, epoch=2))
    assert not np.array_equal(shards[0], shard_indices(11, True, 3, 0, seed=5, epoch=3))
    assert shard_indices(5, False).tolist() == [0, 1, 2, 3, 4]
    equal = [shard_indices(11, True, 3, shard, seed=5, epoch=2, equal_shards=True) for shard in range(3)]
    assert [len(shard) for shard in equal] == [3, 3, 3]
    assert len(set(np.concatenate(equal).tolist())) == 9
    with pytest.raises(ValueError):
        shard_indices(11, True, 3, 3)


def test_iterate_batches_stacks_columns(tree):
    source = dataset(tree, train=False, num_clips=3)
    batches = list(iterate_batches(source, range(len(source)), 4, num_workers=2))
    assert [batch[0].shape for batch in batches] == [(4, 3, DURATION, SIZE, SIZE), (2, 3, DURATION, SIZE, SIZE)]
    assert batches[1][2].tolist() == [4, 5]
    assert np.array_equal(batches[1][0][1], source[5][0])


def _indices_and_clips(batches):
    batches = list(batches)
    return np.concatenate([b[2] for b in batches]), np.concatenate([b[0] for b in batches])


def test_epoch_batches_shards_and_epochs(tree):
    source = dataset(tree, train=True, seed=1)
    first = next(iter(epoch_batches(source, batch_size=2, shuffle=True, num_workers=2, seed=7, epoch=4)))
    assert first[0].shape == (2, 3, DURATION, SIZE, SIZE) and first[0].dtype == np.float32
    assert first[1].dtype == np.int32 and first[1].shape == (2,)

    for epoch in (4, 5):                                  # each epoch: its own order and its own augmentation
        indices, clips = _indices_and_clips(epoch_batches(source, 2, True, num_workers=2, seed=7, epoch=epoch))
        assert indices.tolist() == shard_indices(len(source), True, seed=7, epoch=epoch).tolist()
        for position, index in enumerate(indices):
            assert np.array_equal(clips[position], source.get_item(index, epoch)[0])
    again = _indices_and_clips(epoch_batches(source, 2, True, num_workers=1, seed=7, epoch=4))[0]
    assert again.tolist() == shard_indices(len(source), True, seed=7, epoch=4).tolist()

    shards = [_indices_and_clips(epoch_batches(source, 1, True, num_shards=2, shard_id=shard, seed=7))[0]
              for shard in range(2)]
    assert sorted(np.concatenate(shards).tolist()) == [0, 1, 2]
    trimmed = list(epoch_batches(source, 1, True, drop_remainder=True, num_shards=2, shard_id=0, seed=7))
    assert len(trimmed) == 1


def test_iterate_batches_reports_a_bad_item_and_stops_cleanly(tree):
    source = dataset(tree, train=False)
    batches = iterate_batches(source, [0, 1, 99], 1, num_workers=2)
    assert next(batches)[2].tolist() == [0]
    with pytest.raises(IndexError, match="99"):
        list(batches)
    partial = iterate_batches(source, range(len(source)), 1, num_workers=2)
    next(partial)
    partial.close()                                       # a consumer that stops early leaves no thread behind
