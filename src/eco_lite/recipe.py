"""ECO-lite's facts for the stage drivers (src/engine/drivers.py): its network, data sources, optimizer and plateau
schedule, run and checkpoint names, export input shape and the original's printed lines. Options come parsed
(src/eco_lite/config.py).

Training writes <save_dir>/<dataset>bestacc.ckpt (network weights of the best validation top-1) and the run folder
<save_dir>/ecolite_<dataset>/ with checkpoints/eco-<epoch>_<steps>.ckpt (network + optimizer, every epoch, the newest
checkpoints_num_keep kept), train_log.txt, train_log.jsonl, train_state.json and config.json; --continue_training True
continues that run from its newest checkpoint exactly as if it had not stopped. Evaluation scores every validation
video once and prints the original's `{'Loss': ..., 'Top1-Acc': ..., 'Top5-Acc': ...}` (Loss: the mean cross-entropy
over the videos) and the mean class accuracy.
"""
from pathlib import Path

from src.data.eco_dataset import ECOSegmentDataset
from src.eco_lite.config import image_template
from src.eco_lite.schedule import PlateauSchedule
from src.engine.loop import LoopSettings
from src.evaluation import cross_entropy


def seed_line(metrics):
    """The original's printed dict, key names and order included."""
    return str({"Loss": metrics["loss"], "Top1-Acc": metrics["top1"], "Top5-Acc": metrics["top5"]})


class ECOLiteRecipe:
    """ECO-lite training (train.py), evaluation (eval.py, train.py --evaluate True) and export (export.py)."""
    name = "eco_lite"
    config_title = "ECO-lite training configuration:"
    resume_flag = "--continue_training True"
    amp_level = "O0"
    joint_lines = ()

    def __init__(self, args):
        self.args = args

    # ------------------------------------------------------------------------------------------------- training
    @property
    def distributed(self):
        return self.args.run_distribute

    @property
    def clip_norm(self):
        return self.args.clip_gradient

    def run_dir(self):
        return Path(self.args.save_dir) / f"ecolite_{self.args.dataset}"

    def best_checkpoint_path(self):
        """The original's name, <dataset>bestacc.ckpt, in --save_dir (the original: the working directory)."""
        return Path(self.args.save_dir) / f"{self.args.dataset}bestacc.ckpt"

    def _segments(self, list_file, train):
        a = self.args
        return ECOSegmentDataset(list_file, a.num_segments, train=train, seed=a.seed,
                                 image_template=image_template(a), input_size=a.input_size)

    def train_source(self):
        return self._segments(self.args.train_list, train=True)

    def val_source(self):
        return self._segments(self.args.val_list, train=False)

    def build_network(self):
        """(network, None): ECOLite with --resume's weights; a head for another class count stays fresh."""
        from src.eco_lite import ECOLite, load_eco_checkpoint

        a = self.args
        net = ECOLite(a.num_classes, a.num_segments, dropout_keep_prob=a.dropout)
        if not a.resume:
            print("=> Train from scratch", flush=True)
            return net, None
        load_eco_checkpoint(net, a.resume)
        print(f"=> loaded {a.resume}", flush=True)
        return net, None

    def build_optimizer(self, network, params, steps_per_epoch):
        """(SGD with momentum over real parameter groups, the plateau schedule that sets its learning-rate Parameter
        between epochs, so a compiled graph keeps running without recompilation)."""
        import mindspore as ms
        from mindspore import nn

        from src.eco_lite import optim_groups
        from src.engine.optimizers import MomentumSGD

        a = self.args
        groups = optim_groups(network, partial_bn=not a.no_partialbn, weight_decay=a.weight_decay)
        print(f"optimizer groups: {len(groups[0]['params'])} weights with weight decay {a.weight_decay}, "
              f"{len(groups[1]['params'])} biases and BatchNorm scales without; partial BN "
              f"{'off' if a.no_partialbn else 'on (every BatchNorm but the first frozen)'}", flush=True)
        if a.momentum > 0:
            optimizer = MomentumSGD(groups, learning_rate=a.lr, momentum=a.momentum, nesterov=a.nesterov)
        else:
            optimizer = nn.SGD(groups, learning_rate=a.lr, nesterov=a.nesterov)

        def apply(lr):
            optimizer.learning_rate.set_data(ms.Tensor(lr, ms.float32))
        return optimizer, PlateauSchedule(a.lr, a.num_saturate, apply=apply)

    def loop_settings(self, rank):
        a = self.args
        return LoopSettings(run_dir=self.run_dir(), prefix="eco", num_epochs=a.epochs, checkpoint_frequency=1,
                            keep_checkpoints=a.checkpoints_num_keep, resume=a.continue_training, rank=rank,
                            best_path=self.best_checkpoint_path(), eval_frequency=a.eval_freq, progress=a.progress,
                            log_interval=a.log_interval)

    @staticmethod
    def metrics(result):
        return {"top1": result.top1, "top5": result.top5, "mean_class": result.mean_class_accuracy,
                "loss": cross_entropy(result.scores, result.labels)}

    def training_done(self, state):
        if state["best_top1"] is not None:
            print(f"best val top1: {state['best_top1']:.4f} (epoch {state['best_epoch']}) -> "
                  f"{self.best_checkpoint_path()}", flush=True)
        print("done", flush=True)

    # ----------------------------------------------------------------------------------------------- evaluation
    def eval_streams(self):
        return (self.name,)

    def eval_source(self, stream):
        return self.val_source()

    def model_path(self, stream):
        return self.args.resume

    def eval_clip_shape(self, stream):
        """(3 * T, H, W) of one evaluation clip: the fixed input of an ONNX export, less the batch."""
        a = self.args
        return (3 * a.num_segments, a.input_size, a.input_size)

    def eval_network(self, stream, path, source):
        """The checkpoint's head must have the class count (evaluation wants the trained head)."""
        from src.eco_lite import ECOLite, load_eco_checkpoint

        a = self.args
        net = ECOLite(a.num_classes, a.num_segments, dropout_keep_prob=a.dropout)
        load_eco_checkpoint(net, path, allow_new_head=False)
        return net

    def class_names(self, source):
        return [str(label) for label in range(self.args.num_classes)]  # list files carry label numbers only

    def result_lines(self, stream, result):
        """The original's dict; a line for its README's `grep "Acc:" log.txt` (the dict itself has no "Acc:");
        the mean class accuracy."""
        metrics = self.metrics(result)
        return [seed_line(metrics), f"Acc: top-1 {metrics['top1']:.4f}, top-5 {metrics['top5']:.4f} over "
                                    f"{len(result.keys)} videos", f"Mean class accuracy: {metrics['mean_class']:.4f}"]

    # --------------------------------------------------------------------------------------------------- export
    def export_network(self):
        from src.eco_lite import ECOLite, load_eco_checkpoint

        a = self.args
        net = ECOLite(a.num_classes, a.num_segments, dropout_keep_prob=a.dropout)
        load_eco_checkpoint(net, a.checkpoint_path, allow_new_head=False)
        return net

    def export_input_shape(self):
        a = self.args
        return [a.batch_size, 3 * a.num_segments, a.input_size, a.input_size]

    def exported_line(self, target, shape):
        a = self.args
        return (f"exported {a.file_format} to {target} (input {shape} N, 3*T, H, W; output [{a.batch_size}, "
                f"{a.num_classes}] logits)")
