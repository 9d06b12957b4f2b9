"""Every command line of the two original READMEs (I3D's and ECO-lite's README_CN.md), run as typed at a tiny size.

README_LINES below is the map: one row per command line (a line that appears in several sections, or serves two
datasets, has a row per use), each with the tests that run it. A line is run as written: its placeholders and
example paths are replaced by tiny generated data (tests/conftest.py's fixtures and the README's folder layout
rebuilt with links in the test's folder), the launchers get DEVICE_TARGET=CPU and PYTHON_BIN, and only tiny-size
flags are appended after the README's arguments (1 epoch, 8 frames, 32-pixel crops, batch 4). Lines that need an
Ascend device (HCCL rank tables, MINDIR inference on a 310, AIR export) are run too: they must end with a clear
refusal and exit status 1, never a traceback. Lines that another module already runs as typed are recorded with that
test, and test_readme_line_has_a_test checks that the test still exists, so the map stays honest when tests move.
"""
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO_ROOT, make_random_i3d_checkpoints

THIS = "tests/entry/test_original_readme_lines.py"
SEED_READMES = {"i3d": "i3d_README_CN.md", "eco": "ecolite_README_CN.md"}
SEED_DIR = REPO_ROOT.parent / "shared" / "seeds"  # where the user's original READMEs are kept (outside the repo)

Line = namedtuple("Line", "name readme line tests how")

# ------------------------------------------------------------------------------------------------ the map

README_LINES = [
    # ---- I3D: data preparation (run inside src/tools, as the README says)
    Line("i3d_generate_rgb_jpgs_hmdb51", "i3d",
         "python -m generate_rgb_jpgs avi_video_dir_path jpg_video_dir_path hmdb51",
         (f"{THIS}::test_readme_i3d_generate_rgb_jpgs_hmdb51",),
         "here, on tiny HMDB51-style videos, + --size 32 --workers 1"),
    Line("i3d_convert_rgb_to_flow_hmdb51", "i3d",
         "python convert_rgb_to_flow.py --rgb_path=[RGB_PATH] --flow_path=[FLOW_PATH]",
         (f"{THIS}::test_readme_i3d_convert_rgb_to_flow",),
         "here, on the HMDB51 frames, + --workers 1"),
    Line("i3d_hmdb51_json", "i3d",
         "python -m hmdb51_json annotation_dir_path jpg_video_dir_path dst_json_path",
         (f"{THIS}::test_readme_i3d_hmdb51_json",),
         "here: 51 classes (3 with videos, 48 with empty split files) -> hmdb51_{1,2,3}.json"),
    Line("i3d_generate_n_frames_hmdb51", "i3d",
         "python generate_n_frames.py jpg_video_directory",
         (f"{THIS}::test_readme_i3d_generate_n_frames",),
         "here, on the HMDB51 rgb and flow frames"),
    Line("i3d_generate_rgb_jpgs_ucf101", "i3d",
         "python -m generate_rgb_jpgs avi_video_dir_path jpg_video_dir_path ucf101",
         ("tests/tools/test_data_tools.py::test_seed_command_lines",),
         "covered: run from src/tools + --n_jobs 1 --size 32"),
    Line("i3d_convert_rgb_to_flow_ucf101", "i3d",
         "python convert_rgb_to_flow.py --rgb_path=[RGB_PATH] --flow_path=[FLOW_PATH]",
         ("tests/tools/test_data_tools.py::test_seed_command_lines",),
         "covered: run from src/tools + --workers 1"),
    Line("i3d_hmdb51_json_in_the_ucf101_section", "i3d",
         "python -m hmdb51_json annotation_dir_path jpg_video_dir_path dst_json_path",
         (f"{THIS}::test_readme_i3d_hmdb51_json_in_the_ucf101_section",
          "tests/tools/test_data_tools.py::test_seed_command_lines"),
         "the README's UCF101 step repeats the HMDB51 line while naming ucf101_json.py: as typed on UCF101 splits it "
         "refuses clearly (here); `python -m ucf101_json ...` is covered by test_seed_command_lines"),
    Line("i3d_generate_n_frames_ucf101", "i3d",
         "python generate_n_frames.py jpg_video_directory",
         ("tests/tools/test_data_tools.py::test_seed_command_lines",),
         "covered: run from src/tools on the UCF101 rgb frames"),
    Line("i3d_pt2ckpt", "i3d",
         "python pt2ckpt.py --pretrained_path=[PRETRAINED_PATH] --save_path=[SAVE_PATH]",
         (f"{THIS}::test_readme_i3d_pt2ckpt_py",
          "tests/i3d/test_i3d_checkpoint.py::test_cli_runs_as_script_and_fails_cleanly"),
         "here: a 400-class hassony2 rgb_imagenet.pt stand-in converted from src/tools (needs torch)"),
    # ---- I3D: training
    Line("i3d_run_distribute_train_sh", "i3d",
         "bash ./scripts/run_distribute_train.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] "
         "[video_path] [annotation_path] [checkpoint_path]",
         ("tests/engine/test_training.py::test_distributed_training_on_two_cpu_workers",
          "tests/entry/test_config.py::test_distributed_launcher_command_parses"),
         "covered: 2 none ucf101 rgb 1 ... '' + tiny flags on CPU (msrun)"),
    Line("i3d_run_standalone_train_sh", "i3d",
         "bash ./scripts/run_standalone_train.sh [device_id] [dataset] [mode] [num_epochs] [video_path] "
         "[annotation_path] [checkpoint_path]",
         (f"{THIS}::test_readme_i3d_run_standalone_train_sh",
          "tests/entry/test_config.py::test_standalone_launcher_command_parses"),
         "here: 0 ucf101 rgb 1 ./dataset/rgb/ucf101/jpg ... ./src/pretrained/rgb_imagenet.ckpt (400-class stand-in)"),
    *[Line(f"i3d_run_distribute_train_sh_{dataset}_{mode}", "i3d",
           f"bash ./scripts/run_distribute_train.sh 8 hccl_8p.json {dataset} {mode} {epochs} "
           f"./dataset/{mode}/{dataset}/jpg ./dataset/{mode}/{dataset}/annotation/{json_name} "
           f"./src/pretrained/{mode}_imagenet.ckpt",
           ("tests/engine/test_training.py::test_distributed_training_on_two_cpu_workers",
            "tests/entry/test_config.py::test_distributed_launcher_command_parses",
            f"{THIS}::test_readme_i3d_run_distribute_train_sh_on_ascend"),
           "covered on CPU with 2 msrun ranks; as typed with DEVICE_TARGET=Ascend and hccl_8p.json here "
           "(clear refusal expected)")
      for dataset, mode, epochs, json_name in (("ucf101", "rgb", 40, "ucf101_01.json"),
                                               ("ucf101", "flow", 60, "ucf101_01.json"),
                                               ("hmdb51", "rgb", 40, "hmdb51_1.json"),
                                               ("hmdb51", "flow", 60, "hmdb51_1.json"))],
    # ---- I3D: evaluation
    Line("i3d_run_single_eval_sh", "i3d",
         "bash ./scripts/run_single_eval.sh [device_id] [mode] [dataset] [ckpt_path] [video_path] [annotation_path]",
         ("tests/entry/test_eval_export.py::test_run_single_eval_script_end_to_end_and_its_failure_status",),
         "covered: 0 rgb ucf101 <ckpt> <rgb> <json> + tiny flags"),
    Line("i3d_run_distributed_single_mode_eval_sh", "i3d",
         "bash ./scripts/run_distributed_single-mode_eval.sh [ckpt_start_id] [mode] [dataset] [annotation_path] "
         "[video_path] [output_ckpt_path] [train_steps]",
         ("tests/entry/test_eval_export.py::test_distributed_single_mode_eval_script_on_cpu",),
         "covered: 33 rgb ucf101 <json> <rgb> <ckpt dir> 56 + tiny flags"),
    Line("i3d_run_joint_eval_sh", "i3d",
         "bash ./scripts/run_joint_eval.sh [device_id] [dataset] [video_path] [video_path_joint_flow] "
         "[annotation_path] [annotation_path_joint_flow] [rgb_path] [flow_path]",
         ("tests/entry/test_eval_export.py::test_joint_eval_prints_the_seed_lines_and_matches_offline_fusion",),
         "covered: 0 ucf101 <rgb> <flow> <json> <json> <rgb ckpt> <flow ckpt> + tiny flags"),
    *[Line(f"i3d_run_distributed_single_mode_eval_sh_{dataset}_{mode}", "i3d",
           f"bash ./scripts/run_distributed_single-mode_eval.sh {start} {mode} {dataset} "
           f"./{mode}/{dataset}/annotation/{json_name} ./{mode}/{dataset}/jpg "
           f"./output_distribute/{dataset}_{mode}_device0/checkpoints {steps}",
           (f"{THIS}::test_readme_i3d_run_distributed_single_mode_eval_sh",),
           f"here, as typed in the README's layout; checkpoint {start} present, the other 7 reported missing")
      for start, mode, dataset, json_name, steps in ((33, "rgb", "hmdb51", "hmdb51_1.json", 56),
                                                     (45, "flow", "hmdb51", "hmdb51_1.json", 56),
                                                     (33, "rgb", "ucf101", "ucf101_01.json", 148),
                                                     (45, "flow", "ucf101", "ucf101_01.json", 148))],
    *[Line(f"i3d_eval_py_{dataset}_{mode}", "i3d",
           f"python eval.py --dataset={dataset} --video_path=[{mode} jpg PATH] --annotation_path=[json PATH] "
           f"--{mode}_path=[{mode} ckpt PATH] --test_mode={mode} --num_classes={classes} --device_id=[device id]",
           (f"{THIS}::test_readme_i3d_eval_py", "tests/entry/test_config.py::test_readme_eval_commands_parse"),
           f"here: {classes}-class annotation and random {classes}-class checkpoint + tiny flags")
      for dataset, classes in (("hmdb51", 51), ("ucf101", 101)) for mode in ("rgb", "flow")],
    *[Line(f"i3d_eval_py_{dataset}_joint", "i3d",
           f"python eval.py --dataset={dataset} --video_path=[rgb jpg PATH] --annotation_path=[json PATH] "
           f"--video_path_joint_flow=[flow jpg PATH] --annotation_path_joint_flow=[json PATH] "
           f"--rgb_path=[rgb ckpt PATH] --flow_path=[flow ckpt PATH] --test_mode=joint --num_classes={classes} "
           f"--device_id=[device id]",
           (f"{THIS}::test_readme_i3d_eval_py", "tests/entry/test_config.py::test_readme_eval_commands_parse"),
           f"here: {classes}-class annotation and random {classes}-class checkpoints + tiny flags")
      for dataset, classes in (("hmdb51", 51), ("ucf101", 101))],
    # ---- I3D: export and offline inference
    Line("i3d_export_py", "i3d",
         "python export.py --checkpoint_path=[CHECKPOINT_PATH] --file_name=[FILE_NAME] --file_format=[FILE_FORMAT] "
         "--mode=[MODE] --num_class=[NUM_CLASS]",
         (f"{THIS}::test_readme_i3d_export_py",
          "tests/entry/test_eval_export.py::test_mindir_export_reproduces_the_checkpoint_network",
          "tests/entry/test_eval_export.py::test_air_export_off_ascend_is_refused_before_anything_is_written"),
         "here: MINDIR (4 models) and ONNX (2) + --sample_duration=8 --spatial_size=32; AIR: clear refusal"),
    Line("i3d_run_preprocess_sh", "i3d",
         "bash ./scripts/run_preprocess.sh [rank_size] [rank_table_file] [dataset] [mode] [num_epochs] [video_path] "
         "[annotation_path] [checkpoint_path]",
         (f"{THIS}::test_readme_i3d_run_preprocess_sh",
          "tests/offline/test_infer_310.py::test_preprocess_writes_padded_evaluation_batches_in_the_seed_naming"),
         "here through the README's four examples; covered with 1 and 2 ranks in tests/offline"),
    *[Line(f"i3d_run_preprocess_sh_{dataset}_{mode}", "i3d",
           f"bash ./scripts/run_preprocess.sh 8 hccl_8p.json {dataset} {mode} {epochs} ./{mode}/{dataset}/jpg "
           f"./{mode}/{dataset}/annotation/{json_name} ./src/pretrained/{mode}_imagenet.ckpt",
           (f"{THIS}::test_readme_i3d_run_preprocess_sh",),
           "here, as typed (8 processes) in the README's layout + tiny flags")
      for dataset, mode, epochs, json_name in (("hmdb51", "rgb", 40, "hmdb51_1.json"),
                                               ("ucf101", "rgb", 40, "ucf101_01.json"),
                                               ("hmdb51", "flow", 60, "hmdb51_1.json"),
                                               ("ucf101", "flow", 60, "ucf101_01.json"))],
    Line("i3d_run_preprocess_all_sh", "i3d", "bash ./scripts/run_preprocess_all.sh",
         (f"{THIS}::test_readme_i3d_run_preprocess_all_sh",),
         "here in the README's layout; + `1 <tiny flags>` (options can only follow the optional rank_size)"),
    Line("i3d_run_infer_310_sh", "i3d", "bash ./scripts/run_infer_310.sh [MINDIR_PATH] [DATASET] [DEVICE_ID] [MODE]",
         (f"{THIS}::test_readme_i3d_run_infer_310_sh_with_a_mindir",
          "tests/offline/test_infer_310.py::test_app_logits_and_top1_equal_eval_py",
          "tests/offline/test_infer_310.py::test_infer_script_explains_what_to_do_with_a_lone_mindir"),
         "here: an exported .mindir without Ascend -> clear refusal; the .onnx path runs in tests/offline "
         "(C++ app build)"),
    Line("i3d_run_infer_310_all_sh", "i3d",
         "bash ./scripts/run_infer_310_all.sh [MINDIR_PATH_HMDB51_RGB] [MINDIR_PATH_HMDB51_FLOW] "
         "[MINDIR_PATH_UCF101_RGB] [MINDIR_PATH_UCF101_FLOW] [DEVICE_ID]",
         (f"{THIS}::test_readme_i3d_run_infer_310_all_sh_with_mindirs",),
         "here: four exported .mindir files without Ascend -> four clear refusals, summary, status 1"),
    Line("i3d_export_py_onnx_gpu", "i3d",
         "python export.py --checkpoint_path /path/to/I3D.ckpt --file_name /path/to/I3D --file_format ONNX "
         "--batch_size 8 --device GPU --device_id 0 --mode rgb",
         (f"{THIS}::test_readme_i3d_export_py_onnx_on_gpu",
          "tests/entry/test_config.py::test_readme_export_commands_parse"),
         "here + --sample_duration 8 --spatial_size 32: exports on a GPU machine, clear refusal without a GPU"),
    Line("i3d_run_eval_onnx_sh_joint_usage", "i3d",
         "bash ./scripts/run_eval_onnx.sh [test_mode] [device_target] [device_id] [dataset] [video_path] "
         "[video_path_joint_flow] [annotation_path] [annotation_path_joint_flow] [rgb_onnx_path] [flow_onnx_path]",
         (f"{THIS}::test_readme_i3d_run_eval_onnx_sh_joint",
          "tests/entry/test_eval_export.py::test_onnx_eval_matches_mindspore"),
         "here through the README's example; covered with joint CPU 0 ucf101 ..."),
    Line("i3d_run_eval_onnx_sh_joint", "i3d",
         "bash ./scripts/run_eval_onnx.sh joint GPU 0 hmdb51 ./data/rgb/hmdb51/jpg ./data/flow/hmdb51/jpg "
         "./data/rgb/hmdb51/annotation/hmdb51_1.json ./data/flow/hmdb51/annotation/hmdb51_1.json ./i3d_h_rgb.onnx "
         "./i3d_h_flow.onnx",
         (f"{THIS}::test_readme_i3d_run_eval_onnx_sh_joint",),
         "here, exactly as typed in the README's layout (GPU falls back to the CPU with a note)"),
    Line("i3d_run_eval_onnx_sh_single_usage", "i3d",
         "bash ./scripts/run_eval_onnx.sh [test_mode] [device_target] [device_id] [dataset] [video_path] "
         "[annotation_path] [rgb_onnx_path]",
         (f"{THIS}::test_readme_i3d_run_eval_onnx_sh_rgb",),
         "here through the README's example"),
    Line("i3d_run_eval_onnx_sh_rgb", "i3d",
         "bash ./scripts/run_eval_onnx.sh rgb GPU 0 hmdb51 ./data/rgb/hmdb51/jpg "
         "./data/rgb/hmdb51/annotation/hmdb51_1.json ./i3d_h_rgb.onnx",
         (f"{THIS}::test_readme_i3d_run_eval_onnx_sh_rgb",),
         "here, exactly as typed in the README's layout"),
    # ---- ECO-lite
    Line("eco_gen_dataset_lists_py_usage", "eco", "python ./src/gen_dataset_lists.py [数据集名称] [数据集绝对路径]",
         (f"{THIS}::test_readme_eco_gen_dataset_lists_py", "tests/tools/test_data_tools.py::test_seed_command_lines"),
         "here through the README's example"),
    Line("eco_gen_dataset_lists_py", "eco", "python ./src/gen_dataset_lists.py ucf101 /disk3/hlj/ucf101",
         (f"{THIS}::test_readme_eco_gen_dataset_lists_py",),
         "here, as typed from a folder holding data/ucf101_splits"),
    Line("eco_extract_frames_py_usage", "eco",
         "python ./src/extract_frames.py --video_src_path [视频数据集路径数据集] --image_save_path [视频帧保存路径]",
         ("tests/tools/test_data_tools.py::test_seed_command_lines",),
         "covered, as typed from the repository root"),
    Line("eco_extract_frames_py", "eco",
         "python ./src/extract_frames.py --video_src_path /path/to/UCF-101 --image_save_path /path/to/ucf101_images",
         ("tests/tools/test_data_tools.py::test_seed_command_lines",),
         "covered, as typed from the repository root"),
    Line("eco_run_distribute_train_sh_usage", "eco",
         "bash ./scripts/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM]",
         ("tests/eco_lite/test_eco_training.py::test_distributed_launcher_on_two_cpu_workers",),
         "covered: none 2 + tiny flags on CPU (msrun)"),
    Line("eco_run_distribute_train_sh", "eco",
         "bash ./scripts/run_distribute_train.sh ./scripts/rank_table_8pcs.json 8",
         (f"{THIS}::test_readme_eco_run_distribute_train_sh_on_ascend",
          "tests/eco_lite/test_eco_training.py::test_distributed_launcher_on_two_cpu_workers"),
         "as typed with DEVICE_TARGET=Ascend here (clear refusal expected); CPU msrun covered"),
    Line("eco_run_distribute_train_sh_usage_no_dot", "eco",
         "bash scripts/run_distribute_train.sh [RANK_TABLE_FILE] [DEVICE_NUM]",
         ("tests/eco_lite/test_eco_training.py::test_distributed_launcher_on_two_cpu_workers",),
         "covered (same script, same arguments)"),
    Line("eco_run_standalone_train_sh_usage", "eco",
         "bash ./scripts/run_standalone_train.sh [CHECKPOINT_PATH] [DEVICE_ID]",
         ("tests/eco_lite/test_eco_training.py::test_training_writes_best_and_periodic_checkpoints_logs_and_config",
          f"{THIS}::test_readme_eco_run_standalone_train_sh"),
         "covered: '' 0 + tiny flags; here through the README's example"),
    Line("eco_run_standalone_train_sh", "eco",
         "bash ./scripts/run_standalone_train.sh ms_model_kinetics_checkpoint0720.ckpt 0",
         (f"{THIS}::test_readme_eco_run_standalone_train_sh",),
         "here: a random 400-class Kinetics stand-in, data/ lists, + --epochs 1 --input_size 64 --batch-size 4"),
    Line("eco_grep_loss_log_txt", "eco", 'grep "loss is " log.txt',
         (f"{THIS}::test_readme_eco_run_standalone_train_sh",
          "tests/eco_lite/test_eco_training.py::test_training_writes_best_and_periodic_checkpoints_logs_and_config"),
         "here: one `epoch: E step: S, loss is L` line per step in ./log.txt"),
    Line("eco_run_eval_sh_usage", "eco", "bash ./scripts/run_eval.sh [CHECKPOINT_PATH] [DEVICE_ID]",
         ("tests/eco_lite/test_eco_training.py::test_eval_scores_every_video_and_prints_the_seed_line",
          f"{THIS}::test_readme_eco_run_eval_sh"),
         "covered: ucf101bestacc.ckpt 0 + tiny flags"),
    Line("eco_run_eval_sh", "eco", "bash ./scripts/run_eval.sh ./ms_model_kinetics_checkpoint0720.ckpt 0",
         (f"{THIS}::test_readme_eco_run_eval_sh",),
         "here: the 400-class Kinetics checkpoint on the 101-class task is refused with advice; the advice works"),
    Line("eco_grep_acc_log_txt", "eco", 'grep "Acc:" log.txt',
         (f"{THIS}::test_readme_eco_run_eval_sh",
          "tests/eco_lite/test_eco_training.py::test_eval_scores_every_video_and_prints_the_seed_line"),
         "here: one `Acc: top-1 ..., top-5 ...` line in ./log.txt"),
    Line("eco_export_py", "eco",
         "python export.py --dataset ucf101 --modality RGB --arch ECO --num_segments 4 --batch-size [BATCH_SIZE] "
         "--no_partialbn True --checkpoint_path [CKPT_PATH] --file_name [FILE_NAME] --file_format [FILE_FORMAT] "
         "--device_id [DEVICE_ID]",
         (f"{THIS}::test_readme_eco_export_py",
          "tests/eco_lite/test_eco_training.py::test_export_mindir_and_onnx_reproduce_the_checkpoint_network",
          "tests/eco_lite/test_eco_training.py::test_air_export_off_ascend_is_refused"),
         "here: MINDIR and ONNX of the fine-tuned checkpoint + --input_size 64; AIR: clear refusal"),
    Line("eco_run_310_infer_sh_usage", "eco",
         "bash ./scripts/run_310_infer.sh [MINDIR_PATH] [EVAL_DATA_DIR] [DEVICE_ID] [BATCH_SIZE]",
         ("tests/offline/test_infer_310_eco.py::test_app_logits_and_top1_equal_eval_py",
          f"{THIS}::test_readme_eco_run_310_infer_sh"),
         "covered with an .onnx beside the .mindir (C++ app build); a lone .mindir refuses clearly (here)"),
    Line("eco_run_310_infer_sh_absolute", "eco",
         "bash scripts/run_310_infer.sh /home/stu/hlj/ecolite.mindir /home/stu/hlj/eval_dataset3 0 16",
         (f"{THIS}::test_readme_eco_run_310_infer_sh",),
         "here: the exported .mindir without Ascend -> clear refusal, nothing written"),
    Line("eco_run_310_infer_sh_relative", "eco", "bash scripts/run_310_infer.sh ./ecolite.mindir ./eval_dataset3 0 16",
         (f"{THIS}::test_readme_eco_run_310_infer_sh",),
         "here: the exported .mindir without Ascend -> clear refusal, nothing written"),
]

# ------------------------------------------------------------------------------------------------ helpers

TINY_I3D_EVAL = ["--test_sample_duration=8", "--spatial_size=32", "--batch_size=4", "--num_workers=1"]
TINY_I3D_TRAIN = ["--spatial_size", "32", "--train_sample_duration", "8", "--test_sample_duration", "8",
                  "--batch_size", "4", "--num_workers", "2", "--no-progress"]
TINY_ECO = ["--input_size", "64", "--batch-size", "4"]
# Not passed on to the commands: launcher variables, and ONEDNN_MAX_CPU_ISA, which src.runtime set in this process
# (tests/conftest.py) and a user's shell does not have: each entry point must set it itself.
DROPPED_ENV = ("DEVICE_ID", "RANK_ID", "RANK_SIZE", "RANK_TABLE_FILE", "MINDSPORE_HCCL_CONFIG_PATH", "MS_ROLE",
               "MS_SCHED_HOST", "PREPROCESS_RESULT", "INFER_BACKEND", "DATA_ROOT", "NNODES", "NODE_RANK",
               "MASTER_ADDR", "MASTER_PORT", "MSRUN_ARGS", "DEVICE_TARGET", "ONEDNN_MAX_CPU_ISA")


def readme_line(name):
    return next(row.line for row in README_LINES if row.name == name)


def command(line, values=None):
    """The README line as an argv: placeholders and example paths replaced by `values` (longest first), the
    repository's scripts by their absolute paths; src/tools lines (`python -m X`, `python X.py`) stay as typed."""
    for key in sorted(values or {}, key=len, reverse=True):
        line = line.replace(key, shlex.quote(str(values[key])))
    assert not re.search(r"\[[^\]]*\]", line), f"unfilled placeholder in {line}"
    argv = shlex.split(line)
    if argv[0] == "bash":
        return ["bash", str(REPO_ROOT / argv[1]), *argv[2:]]
    assert argv[0] == "python", line
    if argv[1].endswith(".py") and (argv[1].startswith("./src/") or (REPO_ROOT / argv[1]).is_file()):
        return [sys.executable, str(REPO_ROOT / argv[1]), *argv[2:]]
    return [sys.executable, *argv[1:]]


def run(argv, cwd, extra=(), **env):
    """Run argv + extra in cwd with no launcher variables from this process; launchers get PYTHON_BIN and
    DEVICE_TARGET=CPU unless env says otherwise."""
    environment = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    environment.update({"PYTHONPATH": "", "PYTHON_BIN": sys.executable, "DEVICE_TARGET": "CPU"})
    environment.update(env)
    return subprocess.run([*map(str, argv), *map(str, extra)], cwd=cwd, capture_output=True, text=True,
                          env=environment, timeout=600)


def succeeded(result):
    assert result.returncode == 0, f"{result.args}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return result


def refused(result):
    """Exit status 1 and no traceback; returns the stderr lines."""
    assert result.returncode == 1, f"{result.args}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.stderr.strip().splitlines()


def link(path, target):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def lay_out(cwd, data, prefix=""):
    """The README's folders, `<prefix>/{rgb,flow}/{hmdb51,ucf101}/{jpg,annotation/<split-1 json>}`, as links to the
    tiny data in cwd (the flow frames use the rgb stream's JSON, as the README says)."""
    base = cwd / prefix if prefix else cwd
    for dataset, json_name in (("hmdb51", "hmdb51_1.json"), ("ucf101", "ucf101_01.json")):
        for stream in ("rgb", "flow"):
            link(base / stream / dataset / "jpg", data[dataset][stream])
            link(base / stream / dataset / "annotation" / json_name, data[dataset]["annotation"])
    return base


def accuracy_lines(text, streams=("rgb", "flow", "joint")):
    return re.findall(rf"^(?:{'|'.join(streams)}) accuracy: \d\.\d{{4}}$", text, re.M)


# ------------------------------------------------------------------------------------------------ data fixtures

@pytest.fixture(scope="module")
def hmdb51_prep(module_mktemp):
    """The README's four HMDB51 preparation lines, run in order from src/tools on tiny HMDB51-style videos (3 classes
    with 18 videos of 8 frames, plus 48 classes whose split files list no video: 51 labels, as HMDB51 has), writing
    the README's suggested layout datasets/{rgb,flow}/hmdb51/{jpg,annotation}."""
    from src.tools import make_sample_dataset

    root = module_mktemp("hmdb51_prep")
    assert make_sample_dataset.main([str(root / "raw"), "--num_classes", "3", "--groups", "3", "--clips", "2",
                                     "--num_frames", "8", "--width", "48", "--height", "32", "--datasets", "hmdb51",
                                     "--workers", "1", "--no-progress"]) == 0
    splits = root / "raw/hmdb51/splits"
    for index in range(48):
        for split in (1, 2, 3):
            (splits / f"empty_class_{index:02d}_test_split{split}.txt").write_text("")
    rgb, flow = root / "datasets/rgb/hmdb51/jpg", root / "datasets/flow/hmdb51/jpg"
    annotation_dir = root / "datasets/rgb/hmdb51/annotation"
    tools = REPO_ROOT / "src/tools"
    results = {
        "generate_rgb_jpgs": run(command(readme_line("i3d_generate_rgb_jpgs_hmdb51"), {
            "avi_video_dir_path": root / "raw/hmdb51/videos", "jpg_video_dir_path": rgb}), tools,
            ["--size", "32", "--workers", "1"]),
        "convert_rgb_to_flow": run(command(readme_line("i3d_convert_rgb_to_flow_hmdb51"), {
            "[RGB_PATH]": rgb, "[FLOW_PATH]": flow}), tools, ["--workers", "1"]),
        "hmdb51_json": run(command(readme_line("i3d_hmdb51_json"), {
            "annotation_dir_path": splits, "jpg_video_dir_path": rgb, "dst_json_path": annotation_dir}), tools),
        "n_frames_rgb": run(command(readme_line("i3d_generate_n_frames_hmdb51"), {"jpg_video_directory": rgb}), tools),
        "n_frames_flow": run(command(readme_line("i3d_generate_n_frames_hmdb51"), {"jpg_video_directory": flow}),
                             tools),
    }
    annotation = annotation_dir / "hmdb51_1.json"
    if annotation.is_file():  # the README: the flow frames use the same JSON
        link(root / "datasets/flow/hmdb51/annotation/hmdb51_1.json", annotation)
    return {"results": results, "rgb": rgb, "flow": flow, "annotation": annotation, "annotation_dir": annotation_dir}


@pytest.fixture(scope="module")
def ucf101_101(tiny_i3d_data, module_mktemp):
    """A UCF101 annotation with UCF101's 101 labels for the session's tiny frames: its classInd.txt lists 98 more
    classes without videos. The frames are the session's (read-only)."""
    from src.tools import ucf101_json

    root = module_mktemp("ucf101_101")
    splits = root / "splits"
    shutil.copytree(tiny_i3d_data["root"] / "raw/ucf101/splits", splits)
    with open(splits / "classInd.txt", "a") as handle:
        handle.writelines(f"{index} EmptyClass{index:03d}\n" for index in range(4, 102))
    assert ucf101_json.main([str(splits), str(tiny_i3d_data["rgb"]), str(root / "annotation"), "--splits", "1"]) == 0
    return {"rgb": tiny_i3d_data["rgb"], "flow": tiny_i3d_data["flow"],
            "annotation": root / "annotation/ucf101_01.json"}


@pytest.fixture(scope="module")
def i3d_data(hmdb51_prep, ucf101_101):
    assert all(result.returncode == 0 for result in hmdb51_prep["results"].values()), "HMDB51 preparation failed"
    return {"hmdb51": hmdb51_prep, "ucf101": ucf101_101}


@pytest.fixture(scope="module")
def i3d_checkpoints(module_mktemp):
    """Random-init I3D checkpoints: {51: {'rgb', 'flow'}, 101: {...}, 400: {...}} (400: the ImageNet stand-ins)."""
    root = module_mktemp("readme_i3d_checkpoints")
    return {classes: make_random_i3d_checkpoints(root / str(classes), num_classes=classes, seed=classes)
            for classes in (51, 101, 400)}


@pytest.fixture(scope="module")
def i3d_exports(i3d_checkpoints, module_mktemp):
    """export(file_format, dataset, mode): runs the README's export line once (cached) for the dataset's model
    (hmdb51: 51 classes, ucf101: 101), writing <format>/i3d_<h|u>_<mode>.<ext>; returns (result, file)."""
    root = module_mktemp("readme_i3d_exports")
    cache = {}

    def export(file_format, dataset, mode):
        key = (file_format, dataset, mode)
        if key not in cache:
            classes = {"hmdb51": 51, "ucf101": 101}[dataset]
            name = root / file_format.lower() / f"i3d_{dataset[0]}_{mode}"
            name.parent.mkdir(exist_ok=True)
            result = run(command(readme_line("i3d_export_py"), {
                "[CHECKPOINT_PATH]": i3d_checkpoints[classes][mode], "[FILE_NAME]": name,
                "[FILE_FORMAT]": file_format, "[MODE]": mode, "[NUM_CLASS]": classes}), root,
                ["--sample_duration=8", "--spatial_size=32", "--device_target=CPU"])
            cache[key] = (result, name.with_suffix("." + file_format.lower()))
        return cache[key]

    return export


# ------------------------------------------------------------------------------------------------ the map stays honest

@pytest.mark.parametrize("row", README_LINES, ids=[row.name for row in README_LINES])
def test_readme_line_has_a_test(row):
    assert row.tests, f"{row.name}: no test"
    for ref in row.tests:
        path, name = ref.split("::")
        assert (REPO_ROOT / path).is_file(), f"{row.name}: {path} is gone"
        module = sys.modules[__name__] if path == THIS else importlib.import_module(path[:-3].replace("/", "."))
        assert name.startswith("test_") and callable(getattr(module, name, None)), f"{row.name}: {ref} is gone"


def seed_command_lines(readme):
    """The distinct command lines (bash/python ...) of a seed README, whitespace-normalised."""
    pattern = re.compile(r"\b((?:bash|python|sh) (?:-m \w|\./|scripts/|[\w./-]+\.(?:py|sh)\b).*)$")
    lines = []
    for text in (SEED_DIR / SEED_READMES[readme]).read_text(encoding="utf-8").splitlines():
        match = pattern.search(text)
        if match and " ".join(match.group(1).split()) not in lines:
            lines.append(" ".join(match.group(1).split()))
    return lines


@pytest.mark.parametrize("readme", sorted(SEED_READMES))
def test_the_map_lists_every_command_line_of_the_seed_readme(readme):
    if not (SEED_DIR / SEED_READMES[readme]).is_file():
        pytest.skip(f"the original README is not at {SEED_DIR / SEED_READMES[readme]}")
    in_readme = seed_command_lines(readme)
    in_map = {row.line for row in README_LINES if row.readme == readme and not row.line.startswith("grep")}
    assert in_readme and set(in_readme) == in_map


# ------------------------------------------------------------------------------------------------ I3D data preparation

def test_readme_i3d_generate_rgb_jpgs_hmdb51(hmdb51_prep):
    result = succeeded(hmdb51_prep["results"]["generate_rgb_jpgs"])
    assert "done 18, skipped 0 (already finished), failed 0" in result.stderr
    video = hmdb51_prep["rgb"] / "move_up/move_up_g01_c01"
    assert sorted(p.name for p in video.glob("*.jpg")) == [f"image_{i:05d}.jpg" for i in range(1, 9)]


def test_readme_i3d_convert_rgb_to_flow(hmdb51_prep):
    succeeded(hmdb51_prep["results"]["convert_rgb_to_flow"])
    video = hmdb51_prep["flow"] / "move_up/move_up_g01_c01"
    assert sorted(p.name for p in video.glob("*.jpg")) == sorted(f"image_{i:05d}{axis}.jpg" for i in range(1, 8)
                                                                 for axis in "xy")
    assert len(list(hmdb51_prep["flow"].glob("*/*"))) == 18


def test_readme_i3d_hmdb51_json(hmdb51_prep):
    result = succeeded(hmdb51_prep["results"]["hmdb51_json"])
    assert "split 1: 12 training / 6 validation videos, 51 classes" in result.stderr
    assert sorted(p.name for p in hmdb51_prep["annotation_dir"].iterdir()) == [f"hmdb51_{k}.json" for k in (1, 2, 3)]
    annotation = json.loads(hmdb51_prep["annotation"].read_text())
    assert len(annotation["labels"]) == 51 and len(annotation["database"]) == 18


def test_readme_i3d_generate_n_frames(hmdb51_prep):
    for stream, count in (("rgb", 8), ("flow", 7)):
        succeeded(hmdb51_prep["results"][f"n_frames_{stream}"])
        counts = {p.read_text().strip() for p in hmdb51_prep[stream].glob("*/*/n_frames")}
        assert len(list(hmdb51_prep[stream].glob("*/*/n_frames"))) == 18 and counts == {str(count)}


def test_readme_i3d_hmdb51_json_in_the_ucf101_section(tiny_i3d_data, tmp_path):
    """The UCF101 step of the README repeats the HMDB51 line (its text names ucf101_json.py): as typed on UCF101
    data it fails with one clear line and writes nothing."""
    result = run(command(readme_line("i3d_hmdb51_json_in_the_ucf101_section"), {
        "annotation_dir_path": tiny_i3d_data["root"] / "raw/ucf101/splits", "jpg_video_dir_path": tiny_i3d_data["rgb"],
        "dst_json_path": tmp_path / "annotation"}), REPO_ROOT / "src/tools")
    assert refused(result) == [f"[hmdb51_json] error: {tiny_i3d_data['root'] / 'raw/ucf101/splits'}: no "
                               "'<class>_test_split<k>.txt' files"]
    assert not (tmp_path / "annotation").exists()


@pytest.mark.slow  # end-to-end: converts a PyTorch checkpoint in a subprocess (torch + MindSpore)
def test_readme_i3d_pt2ckpt_py(tmp_path):
    torch = pytest.importorskip("torch")
    from src.i3d import InceptionI3D, load_i3d_checkpoint
    from tests.i3d.test_i3d_checkpoint import synthetic_state_dict

    pretrained, save = tmp_path / "rgb_imagenet.pt", tmp_path / "pretrained/rgb_imagenet.ckpt"
    torch.save(synthetic_state_dict(torch, "hassony2", "rgb", seed=1), pretrained)
    result = succeeded(run(command(readme_line("i3d_pt2ckpt"), {"[PRETRAINED_PATH]": pretrained,
                                                                "[SAVE_PATH]": save}), REPO_ROOT / "src/tools"))
    assert result.stdout.strip() == f"converted {pretrained} (hassony2 naming, rgb, 400 classes) -> {save}"
    assert load_i3d_checkpoint(InceptionI3D(num_classes=400, mode="rgb"), save) == "i3d"


# ------------------------------------------------------------------------------------------------ I3D training

@pytest.mark.slow  # end-to-end: runs the training launcher
def test_readme_i3d_run_standalone_train_sh(i3d_data, i3d_checkpoints, tmp_path):
    lay_out(tmp_path, i3d_data, "dataset")
    link(tmp_path / "src/pretrained/rgb_imagenet.ckpt", i3d_checkpoints[400]["rgb"])
    result = succeeded(run(command(readme_line("i3d_run_standalone_train_sh"), {
        "[device_id]": 0, "[dataset]": "ucf101", "[mode]": "rgb", "[num_epochs]": 1,
        "[video_path]": "./dataset/rgb/ucf101/jpg",
        "[annotation_path]": "./dataset/rgb/ucf101/annotation/ucf101_01.json",
        "[checkpoint_path]": "./src/pretrained/rgb_imagenet.ckpt"}), tmp_path, TINY_I3D_TRAIN))
    assert "(i3d naming, rgb, 400 classes); its head is replaced by a new 101-class one" in result.stdout
    assert "epoch: 1 step: 3, loss is" in result.stdout and "Finished training." in result.stdout
    assert (tmp_path / "output_standalone/ucf101_rgb/checkpoints/i3d-1_3.ckpt").is_file()
    assert "Finished training." in (tmp_path / "output_standalone/ucf101_rgb_device0_log.txt").read_text()


def ascend_rank_table(path, devices=8):
    """An HCCL rank table of one server with `devices` devices."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "1.0", "server_count": "1", "status": "completed", "server_list": [
        {"server_id": "10.0.0.1", "device": [{"device_id": str(d), "device_ip": f"192.168.0.{d}", "rank_id": str(d)}
                                             for d in range(devices)]}]}))
    return path


@pytest.mark.slow  # end-to-end: runs the distributed training launcher
def test_readme_i3d_run_distribute_train_sh_on_ascend(i3d_data, i3d_checkpoints, tmp_path):
    """The README's first distributed example as typed, on Ascend (DEVICE_TARGET=Ascend, hccl_8p.json beside it), on
    a machine without one: a clear refusal naming the missing Ascend device. (On CPU/GPU the same launcher runs msrun;
    tests/engine/test_training.py runs it with 2 ranks.)"""
    lay_out(tmp_path, i3d_data, "dataset")
    link(tmp_path / "src/pretrained/rgb_imagenet.ckpt", i3d_checkpoints[400]["rgb"])
    ascend_rank_table(tmp_path / "hccl_8p.json")
    result = run(command(readme_line("i3d_run_distribute_train_sh_ucf101_rgb")), tmp_path, DEVICE_TARGET="Ascend")
    lines = refused(result)
    assert lines and "no Ascend device" in lines[-1], result.stdout + result.stderr


# ------------------------------------------------------------------------------------------------ I3D evaluation

@pytest.mark.slow  # end-to-end: runs the evaluation launcher
@pytest.mark.parametrize("name", [row.name for row in README_LINES
                                  if row.name.startswith("i3d_run_distributed_single_mode_eval_sh_")])
def test_readme_i3d_run_distributed_single_mode_eval_sh(name, i3d_data, i3d_checkpoints, tmp_path):
    start, mode, dataset, _, _, checkpoints, steps = shlex.split(readme_line(name))[2:]
    lay_out(tmp_path, i3d_data)
    checkpoint = f"{checkpoints}/i3d-{start}_{steps}.ckpt"
    link(tmp_path / checkpoint, i3d_checkpoints[{"hmdb51": 51, "ucf101": 101}[dataset]][mode])
    result = succeeded(run(command(readme_line(name)), tmp_path, TINY_I3D_EVAL))
    assert f"i3d-{int(start) + 7}_{steps}.ckpt" in result.stderr  # the seven absent ones are named and skipped
    summary = (tmp_path / "output_eval/summary.txt").read_text().splitlines()
    assert summary[0] == f"checkpoint: {checkpoint}" and len(summary) == 2 and accuracy_lines(summary[1], (mode,))
    log = (tmp_path / f"output_eval/eval_{mode}_i3d-{start}_{steps}_log.txt").read_text()
    assert "Found 6 validation examples" in log and accuracy_lines(log, (mode,))[0] == summary[1]


@pytest.mark.slow  # end-to-end: runs eval.py
@pytest.mark.parametrize("name", [row.name for row in README_LINES if row.name.startswith("i3d_eval_py_")])
def test_readme_i3d_eval_py(name, i3d_data, i3d_checkpoints, tmp_path):
    dataset, mode = name.split("_")[-2:]
    data, checkpoints = i3d_data[dataset], i3d_checkpoints[{"hmdb51": 51, "ucf101": 101}[dataset]]
    result = succeeded(run(command(readme_line(name), {
        "[rgb jpg PATH]": data["rgb"], "[flow jpg PATH]": data["flow"], "[json PATH]": data["annotation"],
        "[rgb ckpt PATH]": checkpoints["rgb"], "[flow ckpt PATH]": checkpoints["flow"], "[device id]": 0}),
        tmp_path, [*TINY_I3D_EVAL, "--device_target=CPU"]))
    streams = ("rgb", "flow", "joint") if mode == "joint" else (mode,)
    assert result.stdout.count("Found 6 validation examples") == (2 if mode == "joint" else 1)
    for stream in streams[:2]:
        assert f"checkpoint: {checkpoints[stream]}" in result.stdout.splitlines()
    assert [line.split(" accuracy")[0] for line in accuracy_lines(result.stdout, streams)] == list(streams)


# ------------------------------------------------------------------------------------------------ I3D export, inference

@pytest.mark.slow  # end-to-end: runs export.py
@pytest.mark.parametrize("file_format, dataset, mode", [("MINDIR", "hmdb51", "rgb"), ("MINDIR", "hmdb51", "flow"),
                                                        ("MINDIR", "ucf101", "rgb"), ("MINDIR", "ucf101", "flow"),
                                                        ("ONNX", "hmdb51", "rgb"), ("ONNX", "hmdb51", "flow"),
                                                        ("AIR", "hmdb51", "rgb")])
def test_readme_i3d_export_py(file_format, dataset, mode, i3d_exports):
    result, path = i3d_exports(file_format, dataset, mode)
    if file_format == "AIR":
        assert refused(result)[-1].startswith("error: MindSpore writes AIR files only on Ascend")
        assert not path.parent.exists() or list(path.parent.iterdir()) == []
        return
    succeeded(result)
    classes, channels = {"hmdb51": 51, "ucf101": 101}[dataset], {"rgb": 3, "flow": 2}[mode]
    assert f"exported {file_format} to {path} (input [8, {channels}, 8, 32, 32] N, C, T, H, W; output " \
           f"[8, {classes}] logits)" in result.stdout
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.stem)) == [path.name]


TINY_PREPROCESS = ["--test_sample_duration=8", "--spatial_size=32", "--batch_size=4", "--num_workers=1",
                   "--no-progress"]


def preprocessed_files(root, dataset, mode):
    return (sorted(p.name for p in (root / f"data/{dataset}/{mode}").iterdir() if not p.name.startswith(".")),
            sorted(p.name for p in (root / f"label/{dataset}/{mode}").iterdir() if not p.name.startswith(".")))


@pytest.mark.slow  # end-to-end: runs the preprocessing launcher (8 processes)
@pytest.mark.parametrize("name", [row.name for row in README_LINES if row.name.startswith("i3d_run_preprocess_sh_")])
def test_readme_i3d_run_preprocess_sh(name, i3d_data, tmp_path):
    dataset, mode = shlex.split(readme_line(name))[4:6]
    lay_out(tmp_path, i3d_data)
    result = succeeded(run(command(readme_line(name)), tmp_path, TINY_PREPROCESS))
    assert "process 7 of 8: wrote 0 file(s)" in result.stdout
    data, labels = preprocessed_files(tmp_path / "preprocess_Result", dataset, mode)
    assert data == [f"{dataset}_bs{mode}_1.bin", f"{dataset}_bs{mode}_2.bin"]  # 6 videos, batch 4
    assert labels == [f"label_bs{mode}4.npy", "preprocess_info.json"]
    channels = {"rgb": 3, "flow": 2}[mode]
    first = tmp_path / f"preprocess_Result/data/{dataset}/{mode}/{data[0]}"
    assert first.stat().st_size == 4 * channels * 8 * 32 * 32 * 4  # float32 [4, C, 8, 32, 32]
    assert np.load(tmp_path / f"preprocess_Result/label/{dataset}/{mode}/{labels[0]}").shape == (2, 4)


@pytest.mark.slow  # end-to-end: runs the preprocessing launcher four times
def test_readme_i3d_run_preprocess_all_sh(i3d_data, tmp_path):
    lay_out(tmp_path, i3d_data)
    result = succeeded(run(command(readme_line("i3d_run_preprocess_all_sh")), tmp_path, ["1", *TINY_PREPROCESS]))
    assert re.findall(r"^=== (\w+ \w+)$", result.stdout, re.M) == ["hmdb51 rgb", "ucf101 rgb", "hmdb51 flow",
                                                                   "ucf101 flow"]
    for dataset in ("hmdb51", "ucf101"):
        for mode in ("rgb", "flow"):
            data, labels = preprocessed_files(tmp_path / "preprocess_Result", dataset, mode)
            assert len(data) == 2 and f"label_bs{mode}4.npy" in labels


def mindir_refusal(line):
    return line.startswith("error: ") and "is a MINDIR model, which needs an Ascend 310" in line and \
        "no Ascend device" in line and "--file_format=ONNX" in line


@pytest.mark.slow  # end-to-end: runs the inference launcher (after export.py)
def test_readme_i3d_run_infer_310_sh_with_a_mindir(i3d_exports, tmp_path):
    export, mindir = i3d_exports("MINDIR", "hmdb51", "rgb")
    succeeded(export)
    result = run(command(readme_line("i3d_run_infer_310_sh"), {"[MINDIR_PATH]": mindir, "[DATASET]": "hmdb51",
                                                               "[DEVICE_ID]": 0, "[MODE]": "rgb"}), tmp_path)
    lines = refused(result)
    assert len(lines) == 1 and mindir_refusal(lines[0]) and f"--file_name={mindir.with_suffix('')}" in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # end-to-end: runs the inference launcher (after export.py)
def test_readme_i3d_run_infer_310_all_sh_with_mindirs(i3d_exports, tmp_path):
    models = {}
    for dataset in ("hmdb51", "ucf101"):
        for mode in ("rgb", "flow"):
            result, models[f"[MINDIR_PATH_{dataset.upper()}_{mode.upper()}]"] = i3d_exports("MINDIR", dataset, mode)
            succeeded(result)
    result = run(command(readme_line("i3d_run_infer_310_all_sh"), {**models, "[DEVICE_ID]": 0}), tmp_path)
    lines = refused(result)
    assert len(lines) == 5 and all(mindir_refusal(line) for line in lines[:4])
    assert lines[4] == "error: offline inference failed for: hmdb51 rgb hmdb51 flow ucf101 rgb ucf101 flow"
    assert result.stdout.splitlines()[-5:] == ["=== summary", "hmdb51 rgb: failed", "hmdb51 flow: failed",
                                               "ucf101 rgb: failed", "ucf101 flow: failed"]


@pytest.mark.slow  # end-to-end: runs export.py
def test_readme_i3d_export_py_onnx_on_gpu(i3d_checkpoints, tmp_path):
    """`--device GPU`: exports where there is an NVIDIA GPU; elsewhere a one-line refusal that says what to do."""
    from src.cli import detect_device_target

    (tmp_path / "out").mkdir()
    result = run(command(readme_line("i3d_export_py_onnx_gpu"), {
        "/path/to/I3D.ckpt": i3d_checkpoints[51]["rgb"], "/path/to/I3D": tmp_path / "out/I3D"}), tmp_path,
        ["--sample_duration", "8", "--spatial_size", "32"])
    if detect_device_target(("GPU",)) == "GPU":
        succeeded(result)
        assert (tmp_path / "out/I3D.onnx").is_file()
    else:
        lines = refused(result)
        assert lines[-1].startswith("error: --device_target GPU: this machine has no NVIDIA GPU")
        assert "--device_target CPU" in lines[-1]
        assert list((tmp_path / "out").iterdir()) == []


@pytest.fixture(scope="module")
def onnx_cwd(i3d_data, i3d_exports, module_mktemp):
    """A folder laid out as the README's ONNX examples: ./data/{rgb,flow}/hmdb51/... and ./i3d_h_{rgb,flow}.onnx
    (exported by the README's export line, batch 8, 8 frames, 32 px, 51 classes)."""
    cwd = module_mktemp("readme_onnx")
    lay_out(cwd, i3d_data, "data")
    for mode in ("rgb", "flow"):
        result, path = i3d_exports("ONNX", "hmdb51", mode)
        succeeded(result)
        link(cwd / f"i3d_h_{mode}.onnx", path)
    return cwd


@pytest.fixture(scope="module")
def onnx_rgb_run(onnx_cwd):
    return run(command(readme_line("i3d_run_eval_onnx_sh_rgb")), onnx_cwd)


@pytest.mark.slow  # end-to-end: runs the ONNX evaluation launcher
def test_readme_i3d_run_eval_onnx_sh_joint(onnx_cwd):
    result = succeeded(run(command(readme_line("i3d_run_eval_onnx_sh_joint")), onnx_cwd))
    assert result.stdout.count("Found 6 validation examples") == 2
    assert [line.split(" accuracy")[0] for line in accuracy_lines(result.stdout)] == ["rgb", "flow", "joint"]
    assert re.search(r"^accuracy of rgb: \S+    accuracy of flow: \S+ accuracy of joint: \S+$", result.stdout, re.M)
    assert (onnx_cwd / "joint_onnx_eval.log").read_text().splitlines()[-1] == result.stdout.splitlines()[-1]


@pytest.mark.slow  # end-to-end: runs the ONNX evaluation launcher
def test_readme_i3d_run_eval_onnx_sh_rgb(onnx_rgb_run, onnx_cwd):
    result = succeeded(onnx_rgb_run)
    assert "Found 6 validation examples" in result.stdout and "checkpoint: ./i3d_h_rgb.onnx" in result.stdout
    assert len(accuracy_lines(result.stdout, ("rgb",))) == 1
    assert "rgb accuracy:" in (onnx_cwd / "rgb_onnx_eval.log").read_text()


@pytest.mark.slow  # end-to-end: runs the ONNX evaluation launcher
def test_readme_i3d_run_eval_onnx_sh_prints_no_import_order_warning(onnx_rgb_run):
    assert "src.runtime was imported after mindspore" not in onnx_rgb_run.stdout + onnx_rgb_run.stderr


# ------------------------------------------------------------------------------------------------ ECO-lite

def test_readme_eco_gen_dataset_lists_py(tiny_eco_data, tmp_path):
    """As typed from a folder holding data/ucf101_splits (the README's place for the official split files)."""
    shutil.copytree(tiny_eco_data["root"] / "raw/ucf101/splits", tmp_path / "data/ucf101_splits")
    frames = tiny_eco_data["root"] / "frames"
    succeeded(run(command(readme_line("eco_gen_dataset_lists_py"), {"/disk3/hlj/ucf101": frames}), tmp_path))
    assert sorted(p.name for p in (tmp_path / "data").glob("*.txt")) == sorted(
        f"ucf101_rgb_{subset}_split_{k}.txt" for subset in ("train", "val") for k in (1, 2, 3))
    val = (tmp_path / "data/ucf101_rgb_val_split_1.txt").read_text().splitlines()
    assert len(val) == 6 and f"{frames / 'v_MoveUp_g01_c01'} 8 0" in val


@pytest.fixture(scope="module")
def kinetics_standin(module_mktemp):
    """A random 400-class ECO-lite checkpoint named as the released ms_model_kinetics_checkpoint0720.ckpt."""
    import mindspore as ms

    from src.eco_lite import ECOLite
    from src.engine.checkpoint_io import save_checkpoint

    path = module_mktemp("kinetics") / "ms_model_kinetics_checkpoint0720.ckpt"
    ms.set_seed(720)
    save_checkpoint(ECOLite(num_classes=400), path)
    return path


def eco_folder(cwd, tiny_eco_data, kinetics_standin):
    """The folder the ECO-lite launchers run from: data/ucf101_rgb_{train,val}_split_1.txt and the pretrained file."""
    for subset in ("train", "val"):
        link(cwd / f"data/ucf101_rgb_{subset}_split_1.txt", tiny_eco_data[subset])
    link(cwd / "ms_model_kinetics_checkpoint0720.ckpt", kinetics_standin)
    return cwd


@pytest.fixture(scope="module")
def eco_trained(tiny_eco_data, kinetics_standin, module_mktemp):
    """The README's `bash ./scripts/run_standalone_train.sh ms_model_kinetics_checkpoint0720.ckpt 0`, 1 epoch."""
    cwd = eco_folder(module_mktemp("readme_eco_train"), tiny_eco_data, kinetics_standin)
    result = run(command(readme_line("eco_run_standalone_train_sh")), cwd,
                 ["--epochs", "1", *TINY_ECO, "--num_workers", "2"])
    return {"result": result, "cwd": cwd, "best": cwd / "ucf101bestacc.ckpt"}


@pytest.mark.slow  # end-to-end: runs the training launcher
def test_readme_eco_run_standalone_train_sh(eco_trained):
    result = succeeded(eco_trained["result"])
    assert "its new_fc has 400 classes and the network 101; loading everything else and keeping the network's fresh " \
           "new_fc (fine-tuning)" in result.stdout
    loss_lines = [line for line in (eco_trained["cwd"] / "log.txt").read_text().splitlines() if "loss is " in line]
    assert [line.split(", loss is")[0] for line in loss_lines] == [f"epoch: 1 step: {s}" for s in (1, 2, 3)]
    assert eco_trained["best"].is_file() and (eco_trained["cwd"] / "ecolite_ucf101/checkpoints/eco-1_3.ckpt").is_file()


@pytest.mark.slow  # end-to-end: runs the evaluation launcher twice
def test_readme_eco_run_eval_sh(tiny_eco_data, kinetics_standin, tmp_path):
    """The README evaluates the released 400-class Kinetics checkpoint on the 101-class task: refused in one line
    that says what to pass; with that flag the checkpoint is scored and log.txt has the README's `Acc:` line."""
    eco_folder(tmp_path, tiny_eco_data, kinetics_standin)
    argv = command(readme_line("eco_run_eval_sh"))
    result = run(argv, tmp_path, TINY_ECO)
    refused(result)
    assert "error: checkpoint ./ms_model_kinetics_checkpoint0720.ckpt has a 400-class head (new_fc) but the network " \
           "has 101 classes: pass --num_classes 400" in result.stdout.splitlines()
    result = succeeded(run(argv, tmp_path, [*TINY_ECO, "--num_classes", "400"]))
    assert re.search(r"^\{'Loss': \S+, 'Top1-Acc': \S+, 'Top5-Acc': \S+\}$", result.stdout, re.M)
    acc = [line for line in (tmp_path / "log.txt").read_text().splitlines() if "Acc:" in line]
    assert len(acc) == 1 and re.fullmatch(r"Acc: top-1 \d\.\d{4}, top-5 \d\.\d{4} over 6 videos", acc[0])


@pytest.mark.slow  # end-to-end: runs the distributed training launcher
def test_readme_eco_run_distribute_train_sh_on_ascend(tiny_eco_data, kinetics_standin, tmp_path):
    """The README's example exactly as typed on Ascend (DEVICE_TARGET=Ascend, ./scripts/rank_table_8pcs.json in the
    current folder) on a machine without one: a clear refusal naming the missing Ascend device."""
    eco_folder(tmp_path, tiny_eco_data, kinetics_standin)
    ascend_rank_table(tmp_path / "scripts/rank_table_8pcs.json")
    result = run(command(readme_line("eco_run_distribute_train_sh")), tmp_path, DEVICE_TARGET="Ascend")
    lines = refused(result)
    assert lines and "no Ascend device" in lines[-1], result.stdout + result.stderr


@pytest.fixture(scope="module")
def eco_exports(eco_trained, module_mktemp):
    """export(file_format): the README's export line for the fine-tuned checkpoint (cached); (result, file)."""
    succeeded(eco_trained["result"])
    root = module_mktemp("readme_eco_exports")
    cache = {}

    def export(file_format):
        if file_format not in cache:
            name = root / file_format.lower() / "ecolite"
            name.parent.mkdir()
            result = run(command(readme_line("eco_export_py"), {
                "[BATCH_SIZE]": 16, "[CKPT_PATH]": eco_trained["best"], "[FILE_NAME]": name,
                "[FILE_FORMAT]": file_format, "[DEVICE_ID]": 0}), root,
                ["--input_size", "64", "--device_target", "CPU"])
            cache[file_format] = (result, name.with_suffix("." + file_format.lower()))
        return cache[file_format]

    return export


@pytest.mark.slow  # end-to-end: runs export.py
@pytest.mark.parametrize("file_format", ["MINDIR", "ONNX", "AIR"])
def test_readme_eco_export_py(file_format, eco_exports):
    result, path = eco_exports(file_format)
    if file_format == "AIR":
        assert refused(result)[-1].startswith("error: MindSpore writes AIR files only on Ascend")
        assert list(path.parent.iterdir()) == []
        return
    succeeded(result)
    assert f"exported {file_format} to {path} (input [16, 12, 64, 64] N, 3*T, H, W; output [16, 101] logits)" \
        in result.stdout
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.slow  # end-to-end: runs the inference launcher (after training and export)
@pytest.mark.parametrize("name", ["eco_run_310_infer_sh_relative", "eco_run_310_infer_sh_absolute"])
def test_readme_eco_run_310_infer_sh(name, eco_exports, tiny_eco_data, tmp_path):
    """The exported .mindir with no Ascend device and no .onnx beside it: one clear line, nothing written."""
    result, mindir = eco_exports("MINDIR")
    succeeded(result)
    link(tmp_path / "data/ucf101_rgb_val_split_1.txt", tiny_eco_data["val"])  # the launcher's default --val_list
    model = tmp_path / ("ecolite.mindir" if name.endswith("relative") else "hlj/ecolite.mindir")
    link(model, mindir)
    result = run(command(readme_line(name), {"/home/stu/hlj/ecolite.mindir": model,
                                             "/home/stu/hlj/eval_dataset3": tmp_path / "hlj/eval_dataset3"}), tmp_path)
    lines = refused(result)
    shown = "./ecolite.mindir" if name.endswith("relative") else str(model)
    assert len(lines) == 1 and mindir_refusal(lines[0]) and lines[0].startswith(f"error: {shown} is a MINDIR model")
    assert sorted(p.name for p in model.parent.iterdir()) == (["data", "ecolite.mindir"] if model.parent == tmp_path
                                                              else ["ecolite.mindir"])  # no eval_dataset3
    assert not (tmp_path / "eval_dataset3").exists() and not (tmp_path / "infer_result").exists()
