"""MindSpore's msrun launcher, with msrun's scheduler hosted by node 0 alone.

    python -m src.msrun [msrun options] SCRIPT [script arguments]      # the launchers call it

msrun starts its scheduler on every node whose own addresses include --master_addr. That is right for separate
machines, but two nodes of one machine (a test on the loopback address, or a machine with several node ranks) would
both start one, and the second, unable to bind the port, fails the job. Here a node whose --node_rank is not 0 never
starts the scheduler; everything else is msrun's own code and options.
"""
import sys

from mindspore.parallel.cluster import run
from mindspore.parallel.cluster.process_entity import _api


def node_rank(argv):
    """The --node_rank value of an msrun command line (-1, msrun's default, when absent)."""
    for index, token in enumerate(argv):
        if token.startswith("--node_rank="):
            return int(token.partition("=")[2])
        if token == "--node_rank" and index + 1 < len(argv):
            return int(argv[index + 1])
    return -1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if node_rank(argv) > 0:
        _api._is_local_ip = lambda address: False
    sys.argv = ["msrun", *argv]
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
