"""The one evaluation code path, for every model and backend: scoring (`scoring`), metrics (`metrics`), two-stream
fusion and score files (`fusion`), reports (`report`). Imports no model code and no MindSpore; matplotlib only when
a report figure is asked for."""
from src.evaluation.fusion import (FUSIONS, evaluate_joint, fuse, fuse_saved_scores, load_scores, pair_by_key,
                                   save_scores, scores_paths)
from src.evaluation.metrics import confusion_matrix, cross_entropy, mean_class_accuracy, softmax, top_k_accuracy
from src.evaluation.report import per_class_accuracy_csv, write_report
from src.evaluation.scoring import EVAL_ERRORS, EvalResult, EvaluationError, evaluate_stream, predict_logits

__all__ = ["EVAL_ERRORS", "FUSIONS", "EvalResult", "EvaluationError", "confusion_matrix", "cross_entropy",
           "evaluate_joint", "evaluate_stream", "fuse", "fuse_saved_scores", "load_scores", "mean_class_accuracy",
           "pair_by_key", "per_class_accuracy_csv", "predict_logits", "save_scores", "scores_paths", "softmax",
           "top_k_accuracy", "write_report"]
