"""src/tools/results_table.py: the quick start's table and its ONNX-equals-MindSpore check."""
import numpy as np

from src.evaluation import EvalResult, save_scores
from src.tools import results_table

CLASSES = ["A", "B", "C"]


def write(path, scores, keys=("v1", "v2", "v3")):
    save_scores(path, EvalResult.from_scores(list(keys), [0, 1, 2], np.asarray(scores, np.float32)), CLASSES)


def test_table_lists_every_stream_and_accepts_equal_predictions(tmp_path, capsys):
    scores = np.eye(3) + 0.1
    for name in ("rgb", "flow", "joint"):
        write(tmp_path / f"a_{name}.npz", scores)
        write(tmp_path / f"b_{name}.npz", scores[[0, 1, 2]] + 1e-6)
    out = tmp_path / "table.md"
    assert results_table.main([f"MS={tmp_path / 'a.npz'}", f"ONNX={tmp_path / 'b.npz'}", "--same_predictions",
                               "MS,ONNX", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text == out.read_text()
    assert "| MS | joint | 3 | 1.0000 | 1.0000 | 1.0000 |" in text
    assert text.count("3/3 videos predicted the same class") == 3


def test_different_predictions_fail_and_name_the_stream(tmp_path, capsys):
    write(tmp_path / "a.npz", np.eye(3))
    write(tmp_path / "b.npz", np.eye(3)[[0, 2, 1]])
    assert results_table.main([f"MS={tmp_path / 'a.npz'}", f"ONNX={tmp_path / 'b.npz'}",
                               "--same_predictions", "MS,ONNX"]) == 1
    captured = capsys.readouterr()
    assert "scores: 1/3 videos predicted the same class" in captured.out
    assert "predict different classes" in captured.err


def test_videos_are_matched_by_key_not_position(tmp_path):
    write(tmp_path / "a.npz", np.eye(3))
    write(tmp_path / "b.npz", np.eye(3)[[2, 0, 1]], keys=("v3", "v1", "v2"))
    assert results_table.main([f"x={tmp_path / 'a.npz'}", f"y={tmp_path / 'b.npz'}", "--same_predictions", "x,y"]) == 0


def test_missing_scores_are_a_clear_error(tmp_path, capsys):
    assert results_table.main([f"MS={tmp_path / 'nothing.npz'}"]) == 1
    assert "nothing.npz" in capsys.readouterr().err


def test_runs_table_sums_the_epoch_times_of_each_run(tmp_path, capsys):
    import json

    write(tmp_path / "a.npz", np.eye(3))
    run = tmp_path / "run"
    run.mkdir()
    records = [{"epoch": 1, "epoch_time_s": 30.0, "val_top1": 0.5},
               {"epoch": 2, "epoch_time_s": 60.0, "val_top1": 0.75},
               {"epoch": 2, "epoch_time_s": 54.0, "val_top1": 0.25}]  # a resumed run logs epoch 2 again: later wins
    (run / "train_log.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    assert results_table.main([f"MS={tmp_path / 'a.npz'}", "--run", f"I3D rgb, from scratch={run}"]) == 0
    assert "| I3D rgb, from scratch | 2 | 1.4 | 0.5000 |" in capsys.readouterr().out
    assert results_table.main([f"MS={tmp_path / 'a.npz'}", "--run", f"missing={tmp_path / 'none'}"]) == 1
    assert "missing: " in capsys.readouterr().err
