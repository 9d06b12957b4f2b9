"""A MindSpore network as the numpy function that scoring, the demo and feature extraction call."""
import mindspore as ms


def mindspore_predictor(network, reduce=None):
    """predict(batch) -> numpy output of `network` in inference mode for a float32 numpy batch; `reduce`, if given,
    is applied to that output (e.g. pooling features)."""
    network.set_train(False)

    def predict(batch):
        output = network(ms.Tensor(batch)).asnumpy()
        return output if reduce is None else reduce(output)
    return predict
