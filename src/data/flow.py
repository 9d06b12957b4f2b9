"""TV-L1 optical flow and its 8-bit encoding (the I3D convention: clip to +-20 px, map to 0..255)."""
import cv2
import numpy as np

FLOW_BOUND = 20.0


def tvl1_estimator():
    """OpenCV's Dual TV-L1 with its default parameters (as the original and DeepMind's I3D used)."""
    if not hasattr(cv2, "optflow"):
        raise RuntimeError("cv2.optflow is missing: install opencv-contrib-python-headless "
                           "(and uninstall opencv-python / opencv-python-headless, which shadow it)")
    return cv2.optflow.DualTVL1OpticalFlow_create()


def quantize_flow(flow, bound=FLOW_BOUND):
    """Float flow (H, W, 2) in pixels -> uint8, linear: -bound -> 0, 0 -> 128, +bound -> 255."""
    scaled = np.round((np.clip(flow, -bound, bound) + bound) * (255.0 / (2 * bound)))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def dequantize_flow(image, bound=FLOW_BOUND):
    """uint8 flow image -> pixels, the inverse of quantize_flow up to rounding."""
    return image.astype(np.float32) * (2 * bound / 255.0) - bound


def video_flow(gray_frames, estimator, seed_pairing=False):
    """Yield the flow fields of a list of grayscale frames.

    Default: flow k (1-based) is the motion from frame k to frame k+1, so N frames give N-1 fields.
    seed_pairing reproduces the original tool, whose first field is frame 1 -> frame 1 (zero motion) and
    whose field k >= 2 is frame k-1 -> frame k, giving N fields shifted one frame against RGB.
    """
    pairs = zip(gray_frames[:-1], gray_frames[1:])
    if seed_pairing:
        pairs = [(gray_frames[0], gray_frames[0])] + list(pairs)
    for previous, current in pairs:
        yield estimator.calc(previous, current, None)
