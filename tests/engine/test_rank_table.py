"""src/rank_table.py: the ranks an Ascend server runs, from a multi-server HCCL rank table."""
import json

import pytest

from src.rank_table import RankTableError, local_ranks, main


def table(servers=2, devices=8):
    return {"version": "1.0", "server_count": str(servers), "status": "completed",
            "server_list": [{"server_id": f"10.0.0.{s}", "device": [
                {"device_id": str(d), "device_ip": f"192.168.{s}.{d}", "rank_id": str(s * devices + d)}
                for d in range(devices)]} for s in range(servers)]}


def test_each_server_runs_its_global_ranks_on_its_local_devices():
    ranks, total = local_ranks(table(), 1)
    assert total == 16 and ranks == [(8 + d, d) for d in range(8)]
    assert local_ranks(table(1, 2), 0) == ([(0, 0), (1, 1)], 2)


@pytest.mark.parametrize("content, message", [
    ({"server_list": []}, "no 'server_list'"),
    (table(servers=1), "NODE_RANK=1 has none"),
    ({"server_list": [{"device": [{"device_id": "0", "rank_id": "1"}]}, {"device": [{"device_id": "0", "rank_id": "1"}]}]},
     "rank_ids must be 0..1"),
    ({"server_list": [{"device": [{"device_id": "0"}]}, {"device": []}]}, "integer rank_id and device_id"),
])
def test_tables_that_cannot_describe_the_job_are_clear_errors(content, message):
    with pytest.raises(RankTableError, match=message):
        local_ranks(content, 1, "t.json")


def test_the_command_prints_the_total_and_one_line_per_local_rank(tmp_path, capsys):
    path = tmp_path / "rank_table_16pcs.json"
    path.write_text(json.dumps(table()))
    assert main([str(path), "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "total 16" and lines[1:] == [f"{8 + d} {d}" for d in range(8)]
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "missing.json"), "0"])
    assert exit_info.value.code == 1
