"""I3D's facts for the stage drivers (src/engine/drivers.py): its network, data sources, optimizer and schedule,
run and checkpoint names, export input shape and the original's printed lines. Options come parsed (config.py)."""
import sys
from functools import cached_property
from pathlib import Path

from src.data.i3d_dataset import I3DClipDataset
from src.data.multicrop import ThreeCropSource
from src.engine.loop import LoopSettings
from src.evaluation import EvaluationError

STREAM_CHANNELS = {"rgb": 3, "flow": 2}
# The original's final joint lines (typos included: scripts and habits grep them).
EVAL_JOINT_LINE = "accuracy of use rgb targerts: {joint:.4f}    accuracy of use flow targerts: {joint:.4f}"
ONNX_JOINT_LINE = "accuracy of rgb: {rgb:.4f}    accuracy of flow: {flow:.4f} accuracy of joint: {joint:.4f}"


def checkpoints_to_keep(mode, checkpoints_num_keep):
    """The original's rule: rgb keeps half as many checkpoints as flow (16 -> 8), at least one."""
    return max(1, checkpoints_num_keep // 2) if mode == "rgb" else checkpoints_num_keep


def build_eval_source(video_root, annotation_path, mode, sample_duration, spatial_size, num_clips=1, num_crops=1,
                      seed=0, skip_missing=False):
    """The validation clips of one stream: num_clips windows per video, each at 1 (centre) or 3 crops."""
    source = I3DClipDataset(video_root, annotation_path, "validation", mode, sample_duration, train=False,
                            spatial_size=spatial_size, seed=seed, num_clips=num_clips, skip_missing=skip_missing)
    if num_crops == 3:
        return ThreeCropSource(source, spatial_size)
    if num_crops != 1:
        raise ValueError(f"num_crops must be 1 or 3, got {num_crops}")
    return source


def check_fixed_input(shape, stream, batch_size, sample_duration, spatial_size, model_path):
    """The batch size to feed a model with a fixed input shape (N, C, T, H, W); dimensions given as names or
    None are free.

    A fixed batch different from --batch_size is adopted with a note (padding makes results independent of it);
    channels, clip length or crop size that disagree with the stream or the options are errors, since they would
    change what is evaluated.
    """
    if len(shape) != 5:
        raise EvaluationError(f"{model_path}: input shape {shape} is not (N, C, T, H, W)")
    batch, channels, frames, height, width = [dim if isinstance(dim, int) and dim > 0 else None for dim in shape]
    if channels is not None and channels != STREAM_CHANNELS[stream]:
        raise EvaluationError(f"{model_path}: the model takes {channels}-channel input {list(shape)}, but {stream} "
                              f"clips have {STREAM_CHANNELS[stream]} channels (a model of the other stream?)")
    for have, flag, want, export_flag in ((frames, "test_sample_duration", sample_duration, "sample_duration"),
                                          (height, "spatial_size", spatial_size, "spatial_size"),
                                          (width, "spatial_size", spatial_size, "spatial_size")):
        if have is not None and have != want:
            raise EvaluationError(f"{model_path}: the model takes input {list(shape)} (N, C, T, H, W), which does "
                                  f"not fit --{flag}={want}; pass --{flag}={have}, or export the model again with "
                                  f"--{export_flag}={want}")
    if batch is not None and batch != batch_size:
        print(f"note: {model_path} has a fixed batch of {batch}; using --batch_size={batch} instead of {batch_size}",
              file=sys.stderr, flush=True)
        return batch
    return batch_size


class I3DRecipe:
    """One I3D stream (training, export) or one to two streams (evaluation), from config.py's options."""
    name = "i3d"
    config_title = "Training configuration:"
    resume_flag = "--resume"
    clip_norm = 0.0
    joint_lines = (EVAL_JOINT_LINE,)

    def __init__(self, args):
        self.args = args

    # ------------------------------------------------------------------------------------------------- training
    @property
    def distributed(self):
        return self.args.distributed

    @property
    def amp_level(self):
        return self.args.amp_level

    def run_dir(self):
        """<save_dir>/<dataset>_<mode>; a distributed run uses the original's folder of device 0,
        <dataset>_<mode>_device0, which its README's evaluation examples name (rank 0 alone writes there, and every
        rank resumes from it)."""
        suffix = "_device0" if self.args.distributed else ""
        return Path(f"{self.args.save_dir.rstrip('/')}/{self.args.dataset}_{self.args.mode}{suffix}")

    def train_source(self):
        a = self.args
        return I3DClipDataset(a.video_path, a.annotation_path, "training", a.mode, a.train_sample_duration, train=True,
                              spatial_size=a.spatial_size, seed=a.seed, skip_missing=a.skip_missing)

    def val_source(self):
        """The per-epoch validation clips, or None with --no_eval."""
        a = self.args
        if a.no_eval:
            return None
        return I3DClipDataset(a.video_path, a.annotation_path, "validation", a.mode, a.test_sample_duration,
                              train=False, spatial_size=a.spatial_size, seed=a.seed, skip_missing=a.skip_missing)

    def build_network(self):
        """(network, trainable parameters): the pretrained checkpoint with a new head, or a fresh network."""
        from src.i3d.finetune import build_training_network

        a = self.args
        return build_training_network(a.mode, a.num_classes, a.finetune_num_classes, a.checkpoint_path,
                                      a.finetune_prefixes, a.dropout_keep_prob, a.bn_momentum)

    def _schedule(self):
        a = self.args
        return dict(base_lr=a.lr, lr_de_rate=a.lr_de_rate, lr_de_epochs=a.lr_de_epochs, has_back=a.has_back)

    def build_optimizer(self, network, params, steps_per_epoch):
        """(optimizer with the original's per-step learning rates, the rate of each epoch for the log)."""
        from src.i3d.finetune import build_optimizer
        from src.i3d.schedule import lr_at_epoch, lr_per_step

        a, schedule = self.args, self._schedule()
        rates = lr_per_step(a.mode, a.num_epochs, steps_per_epoch, **schedule)
        optimizer = build_optimizer(a.optimizer, params, rates, a.momentum, a.weight_decay)
        return optimizer, lambda epoch: lr_at_epoch(a.mode, epoch, **schedule)

    def loop_settings(self, rank):
        a = self.args
        return LoopSettings(run_dir=self.run_dir(), prefix="i3d", num_epochs=a.num_epochs,
                            checkpoint_frequency=a.checkpoint_frequency,
                            keep_checkpoints=checkpoints_to_keep(a.mode, a.checkpoints_num_keep), resume=a.resume,
                            rank=rank, progress=a.progress, log_interval=a.log_interval)

    @staticmethod
    def metrics(result):
        return {"top1": result.top1, "top5": result.top5, "mean_class": result.mean_class_accuracy}

    @staticmethod
    def training_done(state):
        if state["best_top1"] is not None:
            print(f"best val top1: {state['best_top1']:.4f} (epoch {state['best_epoch']})")
        print("Finished training.")

    # ----------------------------------------------------------------------------------------------- evaluation
    def eval_streams(self):
        return ("rgb", "flow") if self.args.test_mode == "joint" else (self.args.test_mode,)

    @cached_property
    def clips_per_video(self):
        """--num_clips, or the original's --num_val_samples when only that is given (its clips are now averaged)."""
        a = self.args
        if a.num_val_samples > 1 and a.num_clips == 1:
            print(f"note: --num_val_samples={a.num_val_samples}: scoring that many clips per video and averaging "
                  "them (as --num_clips)", file=sys.stderr, flush=True)
            return a.num_val_samples
        return a.num_clips

    def eval_source(self, stream):
        """The validation items of one stream; joint mode reads flow from the *_joint_flow options."""
        a = self.args
        video_root, annotation_path = a.video_path, a.annotation_path
        if a.test_mode == "joint" and stream == "flow":
            video_root, annotation_path = a.video_path_joint_flow, a.annotation_path_joint_flow
        return build_eval_source(video_root, annotation_path, stream, a.test_sample_duration, a.spatial_size,
                                 self.clips_per_video, a.num_crops, a.seed, a.skip_missing)

    def model_path(self, stream):
        return getattr(self.args, f"{stream}_path")

    def eval_clip_shape(self, stream):
        """(C, T, H, W) of one evaluation clip: the fixed input of an ONNX export, less the batch."""
        a = self.args
        return (STREAM_CHANNELS[stream], a.test_sample_duration, a.spatial_size, a.spatial_size)

    def eval_network(self, stream, path, source):
        from src.i3d import InceptionI3D, load_i3d_checkpoint

        net = InceptionI3D(source.num_classes, stream, dropout_keep_prob=self.args.dropout_keep_prob)
        load_i3d_checkpoint(net, path)
        return net

    @staticmethod
    def class_names(source):
        return list(source.class_names)

    @staticmethod
    def result_lines(stream, result):
        return result.lines(stream)

    def check_same_classes(self, class_names):
        if class_names["rgb"] != class_names["flow"]:
            raise EvaluationError(f"{self.args.annotation_path} and {self.args.annotation_path_joint_flow} list "
                                  "different classes (or a different class order)")

    # --------------------------------------------------------------------------------------------------- export
    def export_network(self):
        """The checkpoint's network; a head of another class count is an error that says which --num_classes."""
        from src.engine.checkpoint_io import CheckpointError
        from src.i3d import InceptionI3D
        from src.i3d.checkpoint import load_mapped_checkpoint, map_checkpoint, read_checkpoint

        a = self.args
        mapped = map_checkpoint(read_checkpoint(a.checkpoint_path), str(a.checkpoint_path))
        if mapped.num_classes != a.num_classes:
            raise CheckpointError(f"checkpoint {a.checkpoint_path} has a {mapped.num_classes}-class head, not "
                                  f"--num_classes={a.num_classes}: pass --num_classes={mapped.num_classes}")
        net = InceptionI3D(a.num_classes, a.mode, dropout_keep_prob=a.dropout_keep_prob)
        load_mapped_checkpoint(net, mapped)
        return net

    def export_input_shape(self):
        a = self.args
        return [a.batch_size, STREAM_CHANNELS[a.mode], a.sample_duration, a.spatial_size, a.spatial_size]

    def exported_line(self, target, shape):
        a = self.args
        return (f"exported {a.file_format} to {target} (input {shape} N, C, T, H, W; output [{a.batch_size}, "
                f"{a.num_classes}] logits)")
