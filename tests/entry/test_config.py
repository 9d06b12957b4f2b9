"""config.py: the seed's command lines parse, defaults are the seed code's, and bad options fail with clear messages."""
import json
import shlex

import pytest

import config
import src.cli as cli
from config import (eval_onnx_parser, eval_parser, export_parser, parse_eval_args, parse_eval_onnx_args,
                    parse_export_args, parse_preprocess_args, parse_train_args, train_parser)
from src.cli import print_config, write_config
from src.i3d.recipe import checkpoints_to_keep


@pytest.fixture(autouse=True)
def cpu_machine(monkeypatch):
    """No launcher environment and no accelerator, unless a test says otherwise."""
    for name in ("DEVICE_ID", "RANK_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "detect_device_target", lambda allowed=cli.DEVICE_TARGETS: "CPU")


def write_annotation(path, num_labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"labels": [f"class_{i}" for i in range(num_labels)], "database": {}}))
    return path


@pytest.fixture
def data(tmp_path):
    """The seed README's layout in miniature: frame roots, split-1 JSONs, pretrained/trained checkpoints, ONNX files."""
    paths = {}
    for stream in ("rgb", "flow"):
        for dataset, json_name, labels in (("hmdb51", "hmdb51_1.json", 51), ("ucf101", "ucf101_01.json", 101)):
            root = tmp_path / "dataset" / stream / dataset
            (root / "jpg").mkdir(parents=True)
            paths[f"{stream}_{dataset}_jpg"] = root / "jpg"
            paths[f"{stream}_{dataset}_json"] = write_annotation(root / "annotation" / json_name, labels)
    paths["sample_json"] = write_annotation(tmp_path / "sample" / "ucf101_01.json", 6)
    for name in ("rgb_imagenet.ckpt", "flow_imagenet.ckpt", "i3d-40_56.ckpt", "i3d-60_56.ckpt",
                 "i3d_h_rgb.onnx", "i3d_h_flow.onnx"):
        (tmp_path / name).write_bytes(b"stub")
        paths[name] = tmp_path / name
    return paths


def argv(template, data):
    """Split a command line whose {placeholders} name entries of the data fixture."""
    for key, value in data.items():
        template = template.replace("{" + key + "}", shlex.quote(str(value)))
    assert "{" not in template, template
    return shlex.split(template)


def parse_error(capsys, parse, args):
    """Run a parse that must fail; returns its stderr."""
    with pytest.raises(SystemExit) as failure:
        parse(args)
    assert failure.value.code == 1
    return capsys.readouterr().err


# ------------------------------------------------------------------------------------- seed command lines

@pytest.mark.parametrize("dataset, mode, epochs", [("ucf101", "rgb", 40), ("ucf101", "flow", 60),
                                                    ("hmdb51", "rgb", 40), ("hmdb51", "flow", 60)])
def test_distributed_launcher_command_parses(data, dataset, mode, epochs):
    """What run_distribute_train.sh passes to train.py for each README example."""
    args = parse_train_args(argv(
        f"--device_id=3 --dataset={dataset} --video_path={{{mode}_{dataset}_jpg}} "
        f"--annotation_path={{{mode}_{dataset}_json}} --checkpoint_path={{{mode}_imagenet.ckpt}} --mode={mode} "
        f"--num_epochs={epochs} --distributed=True", data))
    assert (args.dataset, args.mode, args.num_epochs, args.device_id) == (dataset, mode, epochs, 3)
    assert args.distributed is True
    assert args.save_dir == "./output_distribute/"
    assert args.finetune_num_classes == config.DATASET_NUM_CLASSES[dataset]
    assert args.num_classes == 400


def test_standalone_launcher_command_parses(data):
    args = parse_train_args(argv("--device_id=0 --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} "
                                 "--annotation_path={rgb_hmdb51_json} --checkpoint_path={rgb_imagenet.ckpt} "
                                 "--mode=rgb --num_epochs=40", data))
    assert args.distributed is False and args.save_dir == "./output_standalone/"


def test_preprocess_launcher_command_parses(data):
    """run_preprocess.sh: the training options plus --sink_mode=False."""
    args = parse_preprocess_args(argv("--sink_mode=False --device_id=1 --dataset=ucf101 --video_path={flow_ucf101_jpg} "
                                      "--annotation_path={flow_ucf101_json} --checkpoint_path={flow_imagenet.ckpt} "
                                      "--mode=flow --num_epochs=60 --distributed=True", data))
    assert args.sink_mode is False and args.distributed is True and args.finetune_num_classes == 101


@pytest.mark.parametrize("command", [
    "--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} --rgb_path={i3d-40_56.ckpt} "
    "--test_mode=rgb --num_classes=51 --device_id=0",
    "--dataset=hmdb51 --video_path={flow_hmdb51_jpg} --annotation_path={flow_hmdb51_json} "
    "--flow_path={i3d-60_56.ckpt} --test_mode=flow --num_classes=51 --device_id=0",
    "--dataset=ucf101 --video_path={rgb_ucf101_jpg} --annotation_path={rgb_ucf101_json} --rgb_path={i3d-40_56.ckpt} "
    "--test_mode=rgb --num_classes=101 --device_id=0",
    "--dataset=ucf101 --video_path={flow_ucf101_jpg} --annotation_path={flow_ucf101_json} "
    "--flow_path={i3d-60_56.ckpt} --test_mode=flow --num_classes=101 --device_id=0",
    "--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
    "--video_path_joint_flow={flow_hmdb51_jpg} --annotation_path_joint_flow={flow_hmdb51_json} "
    "--rgb_path={i3d-40_56.ckpt} --flow_path={i3d-60_56.ckpt} --test_mode=joint --num_classes=51 --device_id=0",
    "--dataset=ucf101 --video_path={rgb_ucf101_jpg} --annotation_path={rgb_ucf101_json} "
    "--video_path_joint_flow={flow_ucf101_jpg} --annotation_path_joint_flow={flow_ucf101_json} "
    "--rgb_path={i3d-40_56.ckpt} --flow_path={i3d-60_56.ckpt} --test_mode=joint --num_classes=101 --device_id=0",
    # run_single_eval.sh / run_distributed_single-mode_eval.sh / run_joint_eval.sh: no --num_classes
    "--device_id=2 --test_mode=rgb --rgb_path={i3d-40_56.ckpt} --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} "
    "--annotation_path={rgb_hmdb51_json}",
    "--device_id=5 --test_mode=flow --flow_path={i3d-60_56.ckpt} --dataset=ucf101 --video_path={flow_ucf101_jpg} "
    "--annotation_path={flow_ucf101_json}",
    "--device_id=0 --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --video_path_joint_flow={flow_hmdb51_jpg} "
    "--annotation_path={rgb_hmdb51_json} --annotation_path_joint_flow={flow_hmdb51_json} --rgb_path={i3d-40_56.ckpt} "
    "--flow_path={i3d-60_56.ckpt} --test_mode=joint",
])
def test_readme_eval_commands_parse(data, command):
    args = parse_eval_args(argv(command, data))
    assert args.num_classes == config.DATASET_NUM_CLASSES[args.dataset]
    assert args.test_sample_duration == 64 and args.fusion == "sum" and args.fusion_weights == (1.0, 1.0)


def test_readme_export_commands_parse(data):
    args = parse_export_args(argv("--checkpoint_path {i3d-40_56.ckpt} --file_name out/I3D --file_format ONNX "
                                  "--batch_size 8 --device GPU --device_id 0 --mode rgb", data))
    assert (args.file_format, args.device_target, args.batch_size, args.mode) == ("ONNX", "GPU", 8, "rgb")
    args = parse_export_args(argv("--checkpoint_path={i3d-60_56.ckpt} --file_name=i3d_flow --file_format=MINDIR "
                                  "--mode=flow --num_class=101", data))
    assert (args.num_classes, args.file_name, args.sample_duration) == (101, "i3d_flow", 64)
    assert parse_export_args(argv("--checkpoint_path={i3d-40_56.ckpt} --mode=rgb --test_sample_duration=32",
                                  data)).sample_duration == 32


@pytest.mark.parametrize("command", [
    "--test_mode=joint --device_target=GPU --device_id=0 --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} "
    "--video_path_joint_flow={flow_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
    "--annotation_path_joint_flow={flow_hmdb51_json} --rgb_path={i3d_h_rgb.onnx} --flow_path={i3d_h_flow.onnx}",
    "--test_mode=rgb --device_target=CPU --device_id=0 --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} "
    "--annotation_path={rgb_hmdb51_json} --rgb_path={i3d_h_rgb.onnx}",
])
def test_eval_onnx_commands_parse(data, command):
    args = parse_eval_onnx_args(argv(command, data))
    # the clip length and crop size come from the ONNX model's input shape unless given (eval_onnx.open_sessions)
    assert args.num_workers == 8 and args.test_sample_duration is None and args.spatial_size is None
    assert not hasattr(args, "num_classes")


def test_eval_onnx_accepts_only_gpu_or_cpu(data, capsys):
    error = parse_error(capsys, parse_eval_onnx_args, argv(
        "--test_mode=rgb --device_target=Ascend --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} "
        "--annotation_path={rgb_hmdb51_json} --rgb_path={i3d_h_rgb.onnx}", data))
    assert "--device_target" in error and "GPU, CPU" in error


# ------------------------------------------------------------------------------------------------ booleans

TRAIN = ("--mode=rgb --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
         "--checkpoint_path={rgb_imagenet.ckpt}")


@pytest.mark.parametrize("flags, expected", [
    ("", {"no_eval": False, "sink_mode": True, "distributed": False, "has_back": False, "resume": False}),
    ("--no_eval", {"no_eval": True}),
    ("--no_eval=False", {"no_eval": False}),
    ("--no_eval=True", {"no_eval": True}),
    ("--sink_mode=True", {"sink_mode": True}),
    ("--sink_mode=false", {"sink_mode": False}),
    ("--sink_mode 0", {"sink_mode": False}),
    ("--distributed=1", {"distributed": True}),
    ("--has_back --resume --lr 0.1", {"has_back": True, "resume": True, "lr": 0.1}),
    ("--openI=False", {}),
])
def test_booleans(data, flags, expected):
    args = parse_train_args(argv(f"{TRAIN} {flags}", data))
    assert {key: getattr(args, key) for key in expected} == expected


def test_skip_missing_and_no_progress(data):
    args = parse_eval_args(argv("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                                "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb --skip_missing --no-progress", data))
    assert args.skip_missing is True and args.progress is False


@pytest.mark.parametrize("flag", ["--distributed=maybe", "--no_eval=yes please", "--sink_mode=2"])
def test_invalid_boolean_names_the_flag(data, capsys, flag):
    error = parse_error(capsys, parse_train_args, argv(TRAIN, data) + [flag])
    assert f"argument {flag.split('=')[0]}:" in error and "invalid boolean" in error


# ---------------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize("flag, message", [
    ("--dataset=kinetics", "argument --dataset: invalid choice 'kinetics' (choose from hmdb51, ucf101)"),
    ("--mode=depth", "argument --mode: invalid choice 'depth' (choose from rgb, flow)"),
    ("--optimizer=lamb", "argument --optimizer: invalid choice 'lamb' (choose from adam, sgd, rmsprop)"),
    ("--context=eager", "argument --context: invalid choice 'eager'"),
    ("--device_target=TPU", "argument --device_target/--device: invalid choice 'TPU' (choose from CPU, GPU, Ascend)"),
    ("--amp_level=O4", "argument --amp_level: invalid choice 'O4' (choose from O0, O1, O2, O3)"),
    ("--batch_size=0", "argument --batch_size: must be a positive integer, got 0"),
    ("--num_epochs=-3", "argument --num_epochs: must be a positive integer, got -3"),
    ("--lr=0", "argument --lr: must be a positive number, got 0"),
    ("--lr_de_epochs=2.5", "argument --lr_de_epochs: '2.5' is not an integer"),
    ("--dropout_keep_prob=1.5", "argument --dropout_keep_prob: must be in (0, 1], got 1.5"),
    ("--device_id=-1", "argument --device_id: must be an integer >= 0, got -1"),
    ("--start_epoch=32", "--start_epoch=32 must be below --num_epochs=32"),
    ("--finetune_prefixes=logits,Mixed_9", "--finetune_prefixes: 'Mixed_9' is not a prefix of any layer name"),
    ("--num_class_typo=3", "unrecognized arguments: --num_class_typo=3"),
    ("--test_mode=rgb", "unrecognized arguments: --test_mode=rgb"),
])
def test_train_option_errors(data, capsys, flag, message):
    assert message in parse_error(capsys, parse_train_args, argv(TRAIN, data) + [flag])


def test_optimizer_is_case_insensitive(data):
    assert parse_train_args(argv(TRAIN + " --optimizer=SGD", data)).optimizer == "sgd"
    assert parse_train_args(argv(TRAIN + " --optimizer RMSProp --device_target ascend", data)).optimizer == "rmsprop"


def test_finetune_prefixes_accept_layer_and_unit_prefixes(data):
    for prefixes in ("logits,Mixed_5", "Mixed_4f.b3b, logits", "Mix", ""):
        assert parse_train_args(argv(TRAIN, data) + [f"--finetune_prefixes={prefixes}"]).finetune_prefixes == prefixes


def test_required_options(data, capsys):
    assert "the following arguments are required: --mode, --dataset" in parse_error(capsys, parse_train_args, [])
    error = parse_error(capsys, parse_train_args, ["--mode=rgb", "--dataset=hmdb51"])
    assert "--video_path is required" in error
    assert "--checkpoint_path" in parse_error(capsys, parse_export_args, ["--mode=rgb"])


@pytest.mark.parametrize("parse, command, flag, kind", [
    (parse_train_args, "--mode=rgb --dataset=hmdb51 --annotation_path={rgb_hmdb51_json} --video_path=MISSING",
     "video_path", "folder"),
    (parse_train_args, "--mode=rgb --dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path=MISSING",
     "annotation_path", "file"),
    (parse_train_args, TRAIN.replace("{rgb_imagenet.ckpt}", "MISSING"), "checkpoint_path", "file"),
    (parse_eval_args, "--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                      "--test_mode=rgb --rgb_path=MISSING", "rgb_path", "file"),
    (parse_eval_args, "--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                      "--test_mode=joint --rgb_path={i3d-40_56.ckpt} --flow_path={i3d-60_56.ckpt} "
                      "--video_path_joint_flow=MISSING", "video_path_joint_flow", "folder"),
    (parse_export_args, "--mode=flow --checkpoint_path=MISSING", "checkpoint_path", "file"),
])
def test_missing_path_names_the_flag_and_the_path(data, capsys, tmp_path, parse, command, flag, kind):
    missing = tmp_path / "no such place"
    args = [arg.replace("MISSING", str(missing)) for arg in argv(command, data)]
    assert f"--{flag}: {kind} not found: {missing}" in parse_error(capsys, parse, args)


@pytest.mark.parametrize("test_mode, flag", [("rgb", "rgb_path"), ("flow", "flow_path"), ("joint", "flow_path")])
def test_eval_requires_the_model_of_its_test_mode(data, capsys, test_mode, flag):
    command = ("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
               f"--test_mode={test_mode}" + (" --rgb_path={i3d-40_56.ckpt}" if test_mode == "joint" else ""))
    error = parse_error(capsys, parse_eval_args, argv(command, data))
    assert f"--{flag} is required for --test_mode={test_mode}" in error


def test_unknown_test_mode_and_file_format(data, capsys):
    error = parse_error(capsys, parse_eval_args, ["--dataset=hmdb51", "--test_mode=both"])
    assert "argument --test_mode: invalid choice 'both' (choose from rgb, flow, joint)" in error
    error = parse_error(capsys, parse_export_args, argv("--mode=rgb --checkpoint_path={i3d-40_56.ckpt} "
                                                        "--file_format=TFLITE", data))
    assert "argument --file_format: invalid choice 'TFLITE' (choose from MINDIR, AIR, ONNX)" in error
    assert parse_export_args(argv("--mode=rgb --checkpoint_path={i3d-40_56.ckpt} --file_format=onnx",
                                  data)).file_format == "ONNX"


def test_train_class_count_mismatch_names_both_numbers_and_the_file(data, capsys):
    error = parse_error(capsys, parse_train_args, argv(TRAIN + " --finetune_num_classes=101", data))
    assert f"--finetune_num_classes=101 does not match --annotation_path={data['rgb_hmdb51_json']}, " \
           "which lists 51 labels" in error


def test_eval_class_count_mismatch_names_both_numbers_and_the_file(data, capsys):
    error = parse_error(capsys, parse_eval_args, argv(
        "--dataset=ucf101 --video_path={rgb_ucf101_jpg} --annotation_path={rgb_hmdb51_json} "
        "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb --num_classes=101", data))
    assert "--num_classes=101" in error and "51 labels" in error and str(data["rgb_hmdb51_json"]) in error


def test_joint_annotation_files_must_agree(data, capsys):
    error = parse_error(capsys, parse_eval_args, argv(
        "--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
        "--video_path_joint_flow={flow_hmdb51_jpg} --annotation_path_joint_flow={sample_json} "
        "--rgb_path={i3d-40_56.ckpt} --flow_path={i3d-60_56.ckpt} --test_mode=joint", data))
    assert "disagree on the number of labels" in error and "has 51" in error and "has 6" in error


def test_joint_flow_annotation_defaults_to_the_rgb_one(data, capsys):
    args = parse_eval_args(argv("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                                "--video_path_joint_flow={flow_hmdb51_jpg} --rgb_path={i3d-40_56.ckpt} "
                                "--flow_path={i3d-60_56.ckpt} --test_mode=joint", data))
    assert args.annotation_path_joint_flow == args.annotation_path
    assert "--annotation_path_joint_flow not given" in capsys.readouterr().err


def test_annotation_file_wins_over_the_dataset_class_count(data, capsys):
    """The 6-class sample dataset is laid out as ucf101; its JSON decides the head size, with a note."""
    args = parse_train_args(argv("--mode=rgb --dataset=ucf101 --video_path={rgb_ucf101_jpg} "
                                 "--annotation_path={sample_json}", data))
    assert args.finetune_num_classes == 6
    assert "ucf101 has 101 classes but the annotation file lists 6 labels; using --finetune_num_classes=6" \
        in capsys.readouterr().err
    args = parse_eval_args(argv("--dataset=ucf101 --video_path={rgb_ucf101_jpg} --annotation_path={sample_json} "
                                "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb", data))
    assert args.num_classes == 6
    assert parse_train_args(argv("--mode=rgb --dataset=ucf101 --video_path={rgb_ucf101_jpg} "
                                 "--annotation_path={sample_json} --finetune_num_classes=6",
                                 data)).finetune_num_classes == 6


def test_broken_annotation_file_is_named(data, capsys, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    error = parse_error(capsys, parse_train_args, argv(TRAIN.replace("{rgb_hmdb51_json}", str(broken)), data))
    assert f"--annotation_path: {broken}: not valid JSON" in error


def test_fusion_options(data, capsys):
    joint = ("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
             "--video_path_joint_flow={flow_hmdb51_jpg} --rgb_path={i3d-40_56.ckpt} --flow_path={i3d-60_56.ckpt} "
             "--test_mode=joint")
    args = parse_eval_args(argv(joint + " --fusion=weighted --fusion_weights=1,1.5 --num_clips=3 --num_crops=3 "
                                        "--scores_path=out/scores.json", data))
    assert (args.fusion, args.fusion_weights, args.num_clips, args.num_crops, args.scores_path) == \
        ("weighted", (1.0, 1.5), 3, 3, "out/scores.json")
    assert parse_eval_args(argv(joint + " --fusion=softmax_avg", data)).fusion == "softmax_avg"
    assert "--fusion_weights applies to --fusion=weighted only" in parse_error(
        capsys, parse_eval_args, argv(joint + " --fusion_weights=1,2", data))
    for bad in ("1", "1,2,3", "a,b", "-1,1", "0,0"):
        assert "argument --fusion_weights: expected two non-negative numbers" in parse_error(
            capsys, parse_eval_args, argv(joint, data) + ["--fusion=weighted", f"--fusion_weights={bad}"])
    assert "argument --num_crops: invalid choice: 2" in parse_error(
        capsys, parse_eval_args, argv(joint, data) + ["--num_crops=2"])
    assert "argument --fusion: invalid choice 'max'" in parse_error(
        capsys, parse_eval_args, argv(joint, data) + ["--fusion=max"])


def test_eval_backend_flag(data, capsys):
    rgb = argv("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
               "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb", data)
    assert parse_eval_args(rgb + ["--backend=ONNXRuntime"]).backend == "onnxruntime"  # case-insensitive, as the others
    assert parse_eval_args(rgb + ["--backend", "mindspore"]).backend == "mindspore"
    assert "argument --backend: invalid choice 'tensorrt' (choose from auto, mindspore, onnxruntime)" in parse_error(
        capsys, parse_eval_args, rgb + ["--backend=tensorrt"])


# ------------------------------------------------------------------------------------------- openI flags

def test_openi_is_refused_with_a_clear_message(data, capsys):
    error = parse_error(capsys, parse_train_args, ["--openI=True", "--dataset=hmdb51", "--mode=rgb",
                                                   "--num_epochs=40", "--distributed=True"])
    assert "--openI=True: openI/OBS syncing is not supported in this port" in error
    error = parse_error(capsys, parse_eval_args, ["--openI=True", "--dataset=hmdb51", "--test_mode=rgb",
                                                  "--rgb_path=i3d-40_56.ckpt"])
    assert "not supported in this port" in error


def test_cloud_flags_parse_but_do_not_reach_the_options(data, capsys):
    args = parse_train_args(argv(TRAIN + " --openI=False --data_url=s3://bucket/data --train_url=s3://bucket/out",
                                 data))
    assert not any(hasattr(args, name) for name in config.CLOUD_FLAGS)
    assert "--data_url is an openI option and is ignored" in capsys.readouterr().err
    args = parse_eval_args(argv("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                                "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb --ckpt_url=x --result_url=y", data))
    assert not any(hasattr(args, name) for name in config.CLOUD_FLAGS)


# ------------------------------------------------------------------------------------- device resolution

@pytest.mark.parametrize("target, amp", [("CPU", "O0"), ("GPU", "O0"), ("Ascend", "O3")])
def test_amp_level_follows_the_device(data, target, amp):
    args = parse_train_args(argv(TRAIN + f" --device_target={target}", data))
    assert (args.device_target, args.amp_level) == (target, amp)
    assert parse_train_args(argv(TRAIN + f" --device_target={target} --amp_level=o2", data)).amp_level == "O2"


def test_device_target_defaults_to_the_detected_accelerator(data, monkeypatch, capsys):
    monkeypatch.setattr(cli, "detect_device_target", lambda allowed=cli.DEVICE_TARGETS: "Ascend")
    args = parse_train_args(argv(TRAIN, data))
    assert (args.device_target, args.amp_level) == ("Ascend", "O3")
    assert "--device_target not given; using Ascend" in capsys.readouterr().err


def test_detect_device_target_reads_device_files(monkeypatch):
    monkeypatch.undo()
    present = set()
    monkeypatch.setattr(cli.glob, "glob", lambda pattern: ["/dev/davinci0"] if "davinci" in present else [])
    monkeypatch.setattr(cli.os.path, "exists", lambda path: "nvidia" in present and "nvidia" in path)
    assert cli.detect_device_target() == "CPU"
    present.add("nvidia")
    assert cli.detect_device_target() == "GPU"
    present.add("davinci")
    assert cli.detect_device_target() == "Ascend"
    assert cli.detect_device_target(config.ONNX_DEVICE_TARGETS) == "GPU"


def test_device_id_from_the_flag_then_env_then_zero(data, monkeypatch, capsys):
    assert parse_train_args(argv(TRAIN, data)).device_id == 0
    monkeypatch.setenv("DEVICE_ID", "5")
    assert parse_train_args(argv(TRAIN, data)).device_id == 5
    assert parse_train_args(argv(TRAIN + " --device_id=2", data)).device_id == 2
    monkeypatch.setenv("DEVICE_ID", "gpu0")
    assert "environment variable DEVICE_ID='gpu0' must be an integer >= 0" in parse_error(
        capsys, parse_train_args, argv(TRAIN, data))


def test_device_num_from_rank_size(data, monkeypatch):
    assert parse_train_args(argv(TRAIN, data)).device_num == 1
    monkeypatch.setenv("RANK_SIZE", "8")
    assert parse_train_args(argv(TRAIN, data)).device_num == 8
    assert parse_train_args(argv(TRAIN + " --device_num=2", data)).device_num == 2


def test_explicit_save_dir_is_kept_when_distributed(data):
    args = parse_train_args(argv(TRAIN + " --distributed --save_dir=runs/x", data))
    assert args.save_dir == "runs/x"


# --------------------------------------------------------------------------------------------- defaults

SEED_TRAIN_DEFAULTS = {
    "num_val_samples": 1, "num_classes": 400, "spatial_size": 224, "train_sample_duration": 64,
    "test_sample_duration": 64, "checkpoint_path": "", "finetune_prefixes": "logits,Mixed_5",
    "dropout_keep_prob": 0.5, "optimizer": "adam", "lr": 0.01, "lr_de_rate": 0.5, "lr_de_epochs": 5,
    "momentum": 0.9, "weight_decay": 1e-8, "batch_size": 8, "start_epoch": 0, "num_epochs": 32,
    "checkpoint_frequency": 1, "checkpoints_num_keep": 16, "no_eval": False, "sink_mode": True,
    "distributed": False, "context": "gr", "num_workers": 16, "has_back": False,
    "save_dir": "./output_standalone/", "finetune_num_classes": 51,
    # added by this project
    "seed": 2022, "resume": False, "skip_missing": False, "progress": True,
}


def test_train_defaults_are_the_seed_codes(data):
    args = vars(parse_train_args(["--mode=rgb", "--dataset=hmdb51", f"--video_path={data['rgb_hmdb51_jpg']}",
                                  f"--annotation_path={data['rgb_hmdb51_json']}"]))
    assert {key: args[key] for key in SEED_TRAIN_DEFAULTS} == SEED_TRAIN_DEFAULTS
    assert (args["device_target"], args["device_id"], args["amp_level"], args["device_num"]) == ("CPU", 0, "O0", 1)


def test_eval_and_export_defaults(data):
    args = parse_eval_args(argv("--dataset=hmdb51 --video_path={rgb_hmdb51_jpg} --annotation_path={rgb_hmdb51_json} "
                                "--rgb_path={i3d-40_56.ckpt} --test_mode=rgb", data))
    assert (args.num_classes, args.batch_size, args.test_sample_duration, args.num_val_samples, args.num_workers,
            args.dropout_keep_prob, args.context, args.num_clips, args.num_crops, args.scores_path, args.backend) == \
        (51, 8, 64, 1, 16, 0.5, "gr", 1, 1, None, "auto")
    args = parse_export_args(argv("--checkpoint_path={i3d-40_56.ckpt} --mode=rgb", data))
    assert (args.file_name, args.file_format, args.batch_size, args.sample_duration, args.num_classes,
            args.spatial_size, args.dropout_keep_prob, args.device_id) == \
        ("i3d_minddir", "MINDIR", 8, 64, 51, 224, 0.5, 0)


EXPOSED = {
    "train": {"mode", "dataset", "video_path", "annotation_path", "num_val_samples", "num_workers", "skip_missing",
              "batch_size", "spatial_size", "train_sample_duration", "test_sample_duration", "num_classes",
              "dropout_keep_prob", "checkpoint_path", "finetune_num_classes", "finetune_prefixes", "bn_momentum", "optimizer", "lr",
              "lr_de_rate", "lr_de_epochs", "momentum", "weight_decay", "has_back", "start_epoch", "num_epochs",
              "save_dir", "checkpoint_frequency", "checkpoints_num_keep", "resume", "log_interval", "no_eval", "sink_mode",
              "distributed", "amp_level", "device_num", "device_target", "device_id", "context", "seed", "progress",
              "openI", "data_url", "train_url"},
    "eval": {"dataset", "video_path", "annotation_path", "num_val_samples", "num_workers", "skip_missing",
             "batch_size", "spatial_size", "test_sample_duration", "num_classes", "dropout_keep_prob", "test_mode",
             "rgb_path", "flow_path", "video_path_joint_flow", "annotation_path_joint_flow", "num_clips", "num_crops",
             "fusion", "fusion_weights", "scores_path", "report_dir", "device_target", "device_id", "context", "seed",
             "progress", "backend",
             "openI", "data_url", "ckpt_url", "result_url"},
    "eval_onnx": {"dataset", "video_path", "annotation_path", "num_val_samples", "num_workers", "skip_missing",
                  "batch_size", "spatial_size", "test_sample_duration", "test_mode", "rgb_path", "flow_path",
                  "video_path_joint_flow", "annotation_path_joint_flow", "num_clips", "num_crops", "fusion",
                  "fusion_weights", "scores_path", "report_dir", "device_target", "device_id", "seed", "progress"},
    "export": {"mode", "checkpoint_path", "file_name", "file_format", "batch_size", "spatial_size", "sample_duration",
               "num_classes", "dropout_keep_prob", "device_target", "device_id"},
}


@pytest.mark.parametrize("name, build", [("train", train_parser), ("eval", eval_parser),
                                         ("eval_onnx", eval_onnx_parser), ("export", export_parser)])
def test_each_entry_point_exposes_exactly_its_options(name, build):
    parser = build()
    assert {action.dest for action in parser._actions} - {"help"} == EXPOSED[name]
    assert parser.format_help()  # help strings format (no stray '%')


def test_preprocess_takes_the_training_options():
    assert {a.dest for a in config.preprocess_parser()._actions} == {a.dest for a in train_parser()._actions}


# ---------------------------------------------------------------------------------------- derived values

def test_checkpoints_to_keep_halves_for_rgb():
    assert (checkpoints_to_keep("rgb", 16), checkpoints_to_keep("flow", 16)) == (8, 16)
    assert (checkpoints_to_keep("rgb", 5), checkpoints_to_keep("rgb", 1)) == (2, 1)


def test_print_config_banner(data, capsys):
    args = parse_train_args(argv(TRAIN, data))
    capsys.readouterr()
    print_config(args)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == lines[-1] == "#" * 60
    assert lines[1] == "Training configuration:"
    assert "  {:>20} {}".format("lr", 0.01) in lines
    assert len(lines) == len(vars(args)) + 3


def test_write_config_is_sorted_json(data, tmp_path):
    args = parse_train_args(argv(TRAIN, data))
    path = tmp_path / "run" / "config.json"
    write_config(vars(args), path)
    text = path.read_text()
    assert json.loads(text) == vars(args)
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('    "')]
    assert keys == sorted(vars(args))
    assert list(path.parent.iterdir()) == [path]


def test_original_flags_that_change_nothing_say_so(data, capsys):
    parse_train_args(argv(TRAIN, data))
    assert "is not used" not in capsys.readouterr().err
    parse_train_args(argv(TRAIN, data) + ["--sink_mode=False", "--start_epoch=3", "--device_num=8"])
    err = capsys.readouterr().err
    for flag in ("--sink_mode", "--start_epoch", "--device_num"):
        assert f"note: {flag} is not used: " in err
    help_text = train_parser().format_help()
    assert help_text.count("not used:") == 3
