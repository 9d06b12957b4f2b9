"""Accuracy of offline-inference results: the C++ app's result_Files against preprocess.py's labels. See
docs/offline_inference.md.

    python postprocess.py --dataset=hmdb51 --mode=rgb --label-path=./preprocess_Result/label/hmdb51/rgb \\
        --result_path=./result_Files [--scores_path=scores.npz]

Batch i's logits are read from <result_path>/<dataset>_bs<mode>_<i>_0.bin (float32, batch_size x num_classes), the
padding rows of the last batch are dropped using preprocess.py's record, and the metrics are src/evaluation's, over
exactly the real samples. The last line is the original's `eval result: top_1 X%`. --scores_path saves the per-video
scores in eval.py's format, so `python -m src.evaluation RGB.npz FLOW.npz` fuses offline rgb and flow results.
Exit status 1 with one `error: ...` line for missing or mis-sized files, and for labels whose preprocessing was killed
or failed before writing every input file (its progress records in the label folder say so).

ECO-lite (the original's ECO postprocess, docs/differences.md#offline-eco-postprocess) is the same script: when
--label_path names the labels of
get_310_eval_dataset.py (its record says so), batch i's logits are read from <result_path>/eval_predict_<i>_.bin, the
class count comes from the result files' size (--num_classes, if given, must agree) and the output is the original's line
`Total data: N, top1 accuracy: x, top5 accuracy: y.` over the real samples only (the padding is left out).

    python postprocess.py --result_path ./result_Files --label_path ./eval_data/label/ --batch_size 16
"""
import json
import sys
from pathlib import Path

import numpy as np

from config import parse_postprocess_args
from src.evaluation import EvalResult, save_scores
from src.offline import ECO_INFO_FORMAT, I3D_INFO_FORMAT, INFO_FILE, unfinished_batches


class PostprocessError(Exception):
    """The results or labels are missing, or do not fit each other."""


def read_record(label_path):
    """(preprocessing record, label file) from the label file or its folder."""
    label_path = Path(label_path)
    folder = label_path if label_path.is_dir() else label_path.parent
    info_path = folder / INFO_FILE
    try:
        info = json.loads(info_path.read_text())
    except FileNotFoundError:
        raise PostprocessError(f"{info_path} not found: the labels must come from this project's preprocess.py "
                               "(the original's pickled label lists carry no sample count)") from None
    except (OSError, ValueError) as error:
        raise PostprocessError(f"{info_path}: unreadable ({error})") from None
    if info.get("format") not in (I3D_INFO_FORMAT, ECO_INFO_FORMAT):
        raise PostprocessError(f"{info_path}: not a record of this preprocess.py (format {info.get('format')!r})")
    unfinished = unfinished_batches(info, folder)
    if unfinished:
        writer = "get_310_eval_dataset.py" if info["format"] == ECO_INFO_FORMAT else "preprocess.py"
        names = ", ".join(info["data_files"][batch - 1] for batch in unfinished[:3])
        raise PostprocessError(f"{info_path}: that preprocessing did not finish: {len(unfinished)} of "
                               f"{info['num_batches']} input file(s) not recorded as written ({names}"
                               f"{', ...' if len(unfinished) > 3 else ''}); rerun {writer} with the same options "
                               "(it resumes and completes the record), then the inference app, then this")
    label_file = label_path if label_path.is_file() else folder / info["label_file"]
    return info, label_file


def read_labels(label_file, info):
    """The real samples' labels (padding dropped)."""
    try:
        labels = np.load(label_file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise PostprocessError(f"{label_file}: cannot read the labels ({error})") from None
    shape = (info["num_batches"], info["batch_size"])
    if labels.shape != shape or labels.dtype != np.int32:
        raise PostprocessError(f"{label_file}: labels of shape {labels.shape} ({labels.dtype}); the record says "
                               f"int32 {shape}")
    labels = labels.reshape(-1)[:info["num_samples"]]
    if (labels < 0).any():
        raise PostprocessError(f"{label_file}: a real sample has a padding label")
    return labels


def result_files(result_path, info):
    """The app's result file of every input file: the record's result_files (ECO-lite), else <input stem>_0.bin."""
    names = info.get("result_files") or [f"{Path(name).stem}_0.bin" for name in info["data_files"]]
    return [Path(result_path) / name for name in names]


def classes_from_results(result_path, info):
    """ECO-lite: the class count the result files hold (all files must agree)."""
    batch, sizes = info["batch_size"], set()
    for path in result_files(result_path, info):
        if path.is_file():
            sizes.add(path.stat().st_size)
    if len(sizes) > 1:
        raise PostprocessError(f"the result files in {result_path} differ in size ({', '.join(map(str, sorted(sizes)))}"
                               " bytes): they do not come from one model")
    size = sizes.pop() if sizes else 0
    if size == 0 or size % (batch * 4):
        return None  # read_scores names the missing or mis-sized file
    return size // (batch * 4)


def read_scores(result_path, info, num_classes):
    """(num_samples, num_classes) logits from the result files, padding rows dropped."""
    batch = info["batch_size"]
    expected = batch * num_classes * 4
    scores = []
    for path in result_files(result_path, info):
        if not path.is_file():
            raise PostprocessError(f"result file not found: {path} (did the inference app run over all "
                                   f"{info['num_batches']} input files?)")
        size = path.stat().st_size
        if size != expected:
            hint = f"; that is {size // (batch * 4)} classes" if size % (batch * 4) == 0 else ""
            raise PostprocessError(f"{path}: expected {expected} bytes (float32 {batch} x {num_classes} classes), got "
                                   f"{size}{hint}")
        scores.append(np.fromfile(path, dtype=np.float32).reshape(batch, num_classes))
    return np.concatenate(scores)[:info["num_samples"]]


def postprocess(args):
    info, label_file = read_record(args.label_path)
    for flag in ("dataset", "mode", "batch_size"):
        given = getattr(args, flag)
        if given is not None and given != info[flag]:
            raise PostprocessError(f"--{flag.replace('_', '-')}={given}, but {args.label_path} holds "
                                   f"{flag.replace('_', ' ')} {info[flag]}")
    eco = info["format"] == ECO_INFO_FORMAT
    num_classes = args.num_classes or (eco and classes_from_results(args.result_path, info)) or info["num_classes"]
    labels = read_labels(label_file, info)
    scores = read_scores(args.result_path, info, num_classes)
    result = EvalResult.from_scores(info["video_keys"], labels, scores)
    if eco:
        if args.scores_path:
            save_scores(args.scores_path, result, [str(label) for label in range(num_classes)])
            print(f"scores saved to {args.scores_path}", flush=True)
        print(f"Total data: {info['num_samples']}, top1 accuracy: {result.top1}, top5 accuracy: {result.top5}.",
              flush=True)
        return result
    padding = info["batch_size"] - info["last_batch_size"]
    print(f"{info['dataset']} {info['mode']}: {info['num_samples']} samples in {info['num_batches']} file(s) of "
          f"{info['batch_size']} ({padding} padding row(s) left out)", flush=True)
    if args.scores_path:
        if num_classes != len(info["class_names"]):
            raise PostprocessError(f"--num-classes={num_classes}, but the annotation lists {len(info['class_names'])}"
                                   " classes; cannot save scores")
        save_scores(args.scores_path, result, info["class_names"])
        print(f"scores saved to {args.scores_path}", flush=True)
    print(f"eval result: top_5 {result.top5 * 100:.3f}%", flush=True)
    print(f"eval result: top_1 {result.top1 * 100:.3f}%", flush=True)
    return result


def main(argv=None):
    args = parse_postprocess_args(argv)
    try:
        postprocess(args)
    except PostprocessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
