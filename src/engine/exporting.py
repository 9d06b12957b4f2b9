"""Writing a network's export file (MINDIR, ONNX, AIR) atomically: what export.py and the ONNX Runtime backend's cache
(src/predictors.py) share."""
import shutil

from src.data.atomic import atomic_output


class ExportError(Exception):
    """An export that wrote no file; the message names the target."""


def export_network(net, dummy_input, target, file_format):
    """Export to a temporary file beside `target` and rename it when complete: a failed export leaves nothing.

    Write errors name the target. mindspore.onnx.export logs a failed write and deletes the file instead of raising,
    so a missing file afterwards is reported with the free space of the folder.
    """
    import mindspore as ms

    with atomic_output(target) as partial:
        try:
            if file_format == "ONNX":
                ms.onnx.export(net, dummy_input, file_name=str(partial))
            else:
                ms.export(net, dummy_input, file_name=str(partial), file_format=file_format)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(target)) from None
        if not partial.is_file() or partial.stat().st_size == 0:
            free_mib = shutil.disk_usage(target.parent).free / 2 ** 20
            raise ExportError(f"{target}: MindSpore could not write the {file_format} file (see its log line above; "
                              f"{free_mib:.1f} MiB free in {target.parent}: is the disk full or the folder not "
                              "writable?)")
