"""I3D clips from rgb or flow frame folders listed by an annotation JSON, with the original's data bugs fixed
(docs/differences.md#i3d-data-training).

Layout: `<video_root>/<class>/<video key>/image_00001.jpg` (rgb) or `image_00001x.jpg`/`image_00001y.jpg`
(flow), each folder with an `n_frames` file. The same JSON serves the rgb and the flow root; a flow folder
has one image fewer than its rgb folder (flow k is frame k -> k+1), and each stream reads its own count.
"""
from pathlib import Path

from src.data.annotations import SUBSETS, AnnotationError, load_annotation
from src.data.frames import (I3D_FLOW_TEMPLATES, I3D_RGB_TEMPLATE, FrameFolderError, count_i3d_frames,
                             read_n_frames)
from src.data.pipeline import FrameClipSource, Video, check_videos, frame_count_problem
from src.data.temporal import multi_clip_starts, temporal_random_crop, temporal_window
from src.data.transforms import (BGRToRGB, CenterCrop, Compose, MultiScaleCrop, RandomHorizontalFlip,
                                 ResizeShortSide, ToSymmetricRange)

MODES = {"rgb": ((I3D_RGB_TEMPLATE,), False), "flow": (I3D_FLOW_TEMPLATES, True)}


def i3d_transforms(mode, train, spatial_size=224):
    """(frame transform, value transform): uint8 frames as read -> float32 in [-1, 1], RGB order for rgb.

    Training: one multi-scale crop per clip (shared by flow x and y) and a flip that negates flow x.
    Evaluation: short side to 256 * spatial_size / 224, then the centre crop (the original's resize was a no-op,
    docs/differences.md#i3d-eval-resize).
    """
    is_flow = mode == "flow"
    if train:
        spatial = [MultiScaleCrop(spatial_size), RandomHorizontalFlip(is_flow=is_flow)]
    else:
        spatial = [ResizeShortSide(round(256 * spatial_size / 224)), CenterCrop(spatial_size)]
    channels = [] if is_flow else [BGRToRGB()]
    return Compose(spatial + channels), ToSymmetricRange()


def _annotated_video(video_root, key, class_name, label):
    """(Video, None) for a loadable folder, else (None, problem)."""
    path = Path(video_root) / class_name / key
    if not path.is_dir():
        return None, f"{path}: frame folder of video {key!r} is missing"
    try:
        n_frames = read_n_frames(path)
    except FrameFolderError as error:
        return None, str(error)
    problem = frame_count_problem(path, n_frames, count_i3d_frames)
    return (None, problem) if problem else (Video(key, path, n_frames, label), None)


class I3DClipDataset(FrameClipSource):
    """Random-access clips of one subset, in JSON order: (clip float32 (C, T, H, W), label int32, index int32).

    C is 3 (RGB) for mode 'rgb' and 2 (x, y) for 'flow'. Training draws a random window of sample_duration
    frames; evaluation uses num_clips evenly spread windows per video (1 = the centre window), one item per
    (video, clip): `video_index[i]` is item i's video, so clip scores can be averaged per video, and
    `video_keys[i]` pairs rgb and flow items of the same video in joint evaluation.
    Missing folders, `n_frames` files that disagree with their folder or gaps in the frames raise (or are left out with one warning under skip_missing) here;
    a missing frame raises when its clip is loaded. Call set_epoch, or use epoch_batches, to vary the
    augmentation per epoch.
    """

    def __init__(self, video_root, annotation_path, subset, mode, sample_duration, train, spatial_size=224,
                 seed=0, num_clips=1, skip_missing=False):
        super().__init__(seed)
        if subset not in SUBSETS.values():
            raise ValueError(f"subset must be one of {sorted(SUBSETS.values())}, got {subset!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
        if train and num_clips != 1:
            raise ValueError("num_clips is for evaluation; training draws one random clip per video")
        self.mode = mode
        self.sample_duration = int(sample_duration)
        self.train = train
        self.num_clips = int(num_clips)
        self.templates, self.grayscale = MODES[mode]
        self.frame_transform, self.value_transform = i3d_transforms(mode, train, spatial_size)

        annotation = load_annotation(annotation_path)
        self.class_names = list(annotation["labels"])
        class_index = {name: position for position, name in enumerate(self.class_names)}
        listed = [(key, entry["annotations"]["label"]) for key, entry in annotation["database"].items()
                  if entry["subset"] == subset]
        if not listed:
            raise AnnotationError(f"{annotation_path}: no videos of subset {subset!r}")
        self.videos = check_videos(
            [_annotated_video(video_root, key, name, class_index[name]) for key, name in listed],
            skip_missing, f"{mode} frames under {video_root} for {annotation_path} ({subset})")
        self.video_index = [video for video in range(len(self.videos)) for _ in range(self.num_clips)]
        self.labels = [self.videos[video].label for video in self.video_index]
        self.video_keys = [self.videos[video].key for video in self.video_index]

    @property
    def num_classes(self):
        return len(self.class_names)

    def frame_indices(self, index, rng):
        """The 1-based frame indices of item `index` (random in training)."""
        video = self.videos[self.video_index[index]]
        if self.train:
            return temporal_random_crop(video.n_frames, self.sample_duration, rng)
        start = multi_clip_starts(video.n_frames, self.sample_duration, self.num_clips)[index % self.num_clips]
        return temporal_window(video.n_frames, start, self.sample_duration)

    def make_clip(self, index, rng):
        video = self.videos[self.video_index[index]]
        return self.load_clip(video.path, self.frame_indices(index, rng), rng, layout=(3, 0, 1, 2))
