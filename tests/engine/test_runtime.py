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
