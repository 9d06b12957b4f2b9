"""The runtime module's environment set-up, and the rule that data tools need no MindSpore."""
import platform

import pytest

from tests.helpers import run_cli

X86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.mark.skipif(not X86, reason="the oneDNN cap applies to x86 CPUs only")
def test_onednn_is_capped_at_avx2_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    probe = ["-c", "import os, src.runtime; print(os.environ['ONEDNN_MAX_CPU_ISA'])"]
    assert run_cli(probe).stdout.strip() == "AVX2"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")
    assert run_cli(probe).stdout.strip() == "AVX512_CORE"


def test_late_import_warns(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    result = run_cli(["-W", "always", "-c", "import mindspore, src.runtime"])
    if X86:
        assert "imported after mindspore" in result.stderr


def test_init_context_rejects_unknown_values():
    from src.runtime import init_context

    with pytest.raises(ValueError, match="device_target must be one of"):
        init_context("TPU")
    with pytest.raises(ValueError, match="context must be 'gr'"):
        init_context("CPU", "graph")


def test_data_tools_do_not_import_mindspore():
    modules = ["annotations", "atomic", "flow", "frames", "video_io"]
    tools = ["convert_rgb_to_flow", "extract_frames", "gen_dataset_lists", "generate_n_frames",
             "generate_rgb_jpgs", "hmdb51_json", "make_sample_dataset", "ucf101_json"]
    code = "; ".join([f"import src.data.{m}" for m in modules] + [f"import src.tools.{t}" for t in tools]
                     + ["import sys", "print('mindspore' in sys.modules)"])
    assert run_cli(["-c", code]).stdout.strip() == "False"


def test_keep_large_blocks_is_a_harmless_no_op_when_the_environment_decides(monkeypatch):
    from src.runtime import keep_large_blocks

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert keep_large_blocks() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    assert keep_large_blocks() in (True, False)


@pytest.fixture
def cpu_only_machine(monkeypatch):
    import src.cli as cli

    monkeypatch.setattr(cli.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(cli.os.path, "exists", lambda path: False)


@pytest.mark.parametrize("target, device", [("GPU", "NVIDIA GPU"), ("Ascend", "Ascend device")])
def test_a_missing_accelerator_is_one_clear_line(cpu_only_machine, capsys, target, device):
    from src.runtime import init_context

    with pytest.raises(SystemExit) as exit_info:
        init_context(target)
    assert exit_info.value.code == 1
    assert f"error: --device_target {target}: this machine has no {device}" in capsys.readouterr().err


def test_distributed_without_a_launcher_is_one_clear_line(monkeypatch, capsys):
    from src.runtime import LAUNCHER_VARIABLES, init_context

    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        init_context("CPU", distributed=True)
    assert exit_info.value.code == 1
    assert "needs its processes started by a launcher: bash scripts/run_distribute_train.sh" in \
        capsys.readouterr().err


def test_train_py_asking_for_a_gpu_here_ends_without_a_traceback(tiny_i3d_data):
    from src.cli import detect_device_target

    if detect_device_target(("GPU",)) == "GPU":
        pytest.skip("this machine has a GPU")
    data = tiny_i3d_data
    result = run_cli(["train.py", "--dataset=ucf101", "--mode=rgb", f"--video_path={data['rgb']}",
                      f"--annotation_path={data['annotation']}", "--device_target=GPU", "--num_epochs=1"],
                     check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: --device_target GPU: this machine has no NVIDIA GPU" in result.stderr
