"""ECO-lite inputs: num_segments frames per video, TSN-sampled, from ECO list files
(docs/differences.md#eco-data-pipeline).

List lines are `<frame_dir> <n_frames> <label>` (src.data.annotations.read_list_file); frames are
`<frame_dir>/img_000001.jpg ...`.
"""
import sys
from pathlib import Path

from src.data.annotations import read_list_file
from src.data.frames import ECO_RGB_TEMPLATE
from src.data.pipeline import FrameClipSource, Video, check_videos, count_template_frames, frame_count_problem
from src.data.temporal import segment_indices_train, segment_indices_val
from src.data.transforms import CenterCrop, Compose, MultiScaleCrop, RandomHorizontalFlip, ResizeShortSide, SubtractMean

INPUT_SIZE = 224
SCALE_SIZE = 256
BGR_MEAN = (104, 117, 128)
FRAME_NUMBER_WIDTHS = (6, 5, 4)  # the zero-paddings of frame numbers in use: extract_frames, TSN-style, kinetics


def eval_scale_size(input_size):
    """Short side before the evaluation centre crop: 256 for 224, in the same ratio for other sizes (128 for 112)."""
    return round(SCALE_SIZE * input_size / INPUT_SIZE)


def eco_transforms(train, input_size=INPUT_SIZE):
    """(frame transform, value transform): uint8 BGR frames -> float32 BGR minus the Caffe means, no /255.

    Training: one multi-scale crop, resized to input_size, and one flip per clip; evaluation: short side
    eval_scale_size(input_size) (256 for the published 224), centre crop input_size.
    """
    if train:
        spatial = [MultiScaleCrop(input_size, scales=(1, .875, .75, .66)), RandomHorizontalFlip()]
    else:
        spatial = [ResizeShortSide(eval_scale_size(input_size)), CenterCrop(input_size)]
    return Compose(spatial), SubtractMean(BGR_MEAN)


def _listed_video(frame_dir, n_frames, label, image_template):
    """(Video, None) for an existing folder whose frames 1..n_frames are all there, else (None, problem); relative
    paths use the cwd."""
    path = Path.cwd() / frame_dir
    if not path.is_dir():
        return None, f"{path}: frame folder is missing"
    problem = frame_count_problem(path, n_frames, lambda folder: count_template_frames(folder, image_template))
    return (None, problem) if problem else (Video(path.name, path, n_frames, label), None)


def frame_template_in_use(template, folder):
    """`template` ('img_{:05d}.jpg'), or the same name with the zero-padding width that names frame 1 in `folder`
    when only that one does: extract_frames writes 6 digits for every dataset, while the original's hmdb51 and
    something settings read 5 (and kinetics 4), so their own frames would otherwise be unreadable."""
    if (folder / template.format(1)).is_file():
        return template
    prefix, _, rest = template.partition("{")
    suffix = rest.partition("}")[2]
    for width in FRAME_NUMBER_WIDTHS:
        candidate = f"{prefix}{{:0{width}d}}{suffix}"
        if (folder / candidate.format(1)).is_file():
            print(f"note: {folder} names its frames {candidate.format(1)}, not {template.format(1)}; reading "
                  f"{candidate}", file=sys.stderr, flush=True)
            return candidate
    return template


class ECOSegmentDataset(FrameClipSource):
    """Items (clip float32 (3 * num_segments, input_size, input_size), label int32, index int32), in list order.

    The clip stacks the frames on the channel axis as [B1, G1, R1, B2, G2, R2, ...] (the original's
    Stack(roll=True) then HWC -> CHW). Relative frame_dir paths are resolved against the current working
    directory when the dataset is built (the original used the script's folder,
    docs/differences.md#eco-data-pipeline). The frame count is the list line's. A missing folder, a gap in its frames or a
    count that disagrees with the folder raises (or the video is left out with one warning under skip_missing); a
    frame removed later raises when its clip is loaded. Augmentation is
    reproducible per (seed, epoch, index). Frame names follow `image_template`, or the same name with the other
    zero-padding the first folder uses (see frame_template_in_use).
    """

    def __init__(self, list_file, num_segments=4, train=True, seed=0, image_template=ECO_RGB_TEMPLATE,
                 skip_missing=False, input_size=INPUT_SIZE):
        super().__init__(seed)
        self.num_segments = int(num_segments)
        self.train = train
        self.templates, self.grayscale = (image_template,), False
        self.frame_transform, self.value_transform = eco_transforms(train, input_size)
        self.videos = check_videos([_listed_video(*line, image_template) for line in read_list_file(list_file)],
                                   skip_missing, f"ECO list {list_file}", skip_flag=None)
        if self.videos:
            self.templates = (frame_template_in_use(image_template, self.videos[0].path),)
        self.labels = [video.label for video in self.videos]
        self.video_keys = [video.key for video in self.videos]

    def frame_indices(self, index, rng):
        """One 1-based frame per segment (random within its segment in training, the middle in evaluation)."""
        n_frames = self.videos[index].n_frames
        if self.train:
            return segment_indices_train(n_frames, self.num_segments, rng)
        return segment_indices_val(n_frames, self.num_segments)

    def make_clip(self, index, rng):
        segments = self.load_clip(self.videos[index].path, self.frame_indices(index, rng), rng, layout=(0, 3, 1, 2))
        return segments.reshape((-1,) + segments.shape[2:])
