"""Which ranks run on this machine, from an HCCL rank table (Ascend's description of a data-parallel job).

    python -m src.rank_table RANK_TABLE_FILE NODE_RANK      # prints "<rank_id> <device_id>" per local device

A rank table lists servers, each with its devices, each device with its global `rank_id`. Server NODE_RANK (its
position in `server_list`) starts one process per listed device, with RANK_ID the device's rank_id and DEVICE_ID its
local device_id: for a second 8-device server, RANK_ID 8..15 on DEVICE_ID 0..7. Bad files are one-line errors.
"""
import json
import sys

from src.cli import Parser, fail, non_negative_int


class RankTableError(ValueError):
    """A rank table that cannot describe this job; the message names the file."""


def local_ranks(table, node_rank, source="rank table"):
    """[(rank_id, device_id)] of server `node_rank`, and the job's total rank count."""
    servers = table.get("server_list") if isinstance(table, dict) else None
    if not isinstance(servers, list) or not servers:
        raise RankTableError(f"{source}: no 'server_list' (expected an HCCL rank table, version 1.0)")
    if node_rank >= len(servers):
        raise RankTableError(f"{source} lists {len(servers)} server(s); NODE_RANK={node_rank} has none")
    try:
        ranks = [[(int(device["rank_id"]), int(device["device_id"])) for device in server["device"]]
                 for server in servers]
    except (KeyError, TypeError, ValueError) as error:
        raise RankTableError(f"{source}: every device needs an integer rank_id and device_id ({error})") from None
    every = sorted(rank for server in ranks for rank, _ in server)
    if every != list(range(len(every))):
        raise RankTableError(f"{source}: the rank_ids must be 0..{len(every) - 1}, each once; got {every}")
    return ranks[node_rank], len(every)


def main(argv=None):
    parser = Parser(prog="python -m src.rank_table", description=__doc__)
    parser.add_argument("rank_table")
    parser.add_argument("node_rank", type=non_negative_int)
    args = parser.parse_args(argv)
    try:
        with open(args.rank_table) as handle:
            table = json.load(handle)
        ranks, total = local_ranks(table, args.node_rank, args.rank_table)
    except (OSError, ValueError) as error:
        fail(f"{args.rank_table}: {error}" if not isinstance(error, RankTableError) else str(error))
    print(f"total {total}")
    for rank, device in ranks:
        print(rank, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
