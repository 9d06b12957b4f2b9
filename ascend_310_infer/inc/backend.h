// The one interface the app runs models through: MindSpore (MINDIR on Ascend 310) or ONNX Runtime (ONNX on CPU).
#ifndef ASCEND_310_INFER_INC_BACKEND_H_
#define ASCEND_310_INFER_INC_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// Any failure the app reports as one "error: ..." line and a non-zero exit status.
class InferError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One model output: its shape and raw bytes, written to the result file as they are.
struct Output {
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

// A loaded model with one float32 input of a fixed shape.
class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  // Throws InferError naming the model when it cannot be loaded or has not exactly one float32 input.
  virtual void Load(const std::string &model_path, uint32_t device_id) = 0;
  virtual std::vector<int64_t> InputShape() const = 0;
  // `data` holds product(InputShape()) floats.
  virtual std::vector<Output> Predict(const float *data, size_t count) = 0;
  virtual std::string Name() const = 0;
};

// The backends this binary was built with ("onnxruntime", "mindspore").
std::vector<std::string> CompiledBackends();

// `name` is "onnxruntime" or "mindspore"; throws InferError when this binary was built without it.
std::unique_ptr<InferenceBackend> CreateBackend(const std::string &name);

#ifdef HAVE_ONNXRUNTIME
std::unique_ptr<InferenceBackend> CreateOnnxRuntimeBackend();
#endif
#ifdef HAVE_MINDSPORE
std::unique_ptr<InferenceBackend> CreateMindSporeBackend();
#endif

#endif  // ASCEND_310_INFER_INC_BACKEND_H_
