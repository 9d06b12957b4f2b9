// CPU backend: an exported ONNX model run by ONNX Runtime through its C API (the only API whose header the project
// vendors; the library is the onnxruntime wheel's, see third_party/onnxruntime/README.md).
#include <onnxruntime_c_api.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "utils.h"

namespace {

// Releases an ONNX Runtime object when it goes out of scope.
template <typename T>
using Guard = std::unique_ptr<T, std::function<void(T *)>>;

size_t ElementSize(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      return 2;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return 1;
    default:
      return 0;
  }
}

class OnnxRuntimeBackend : public InferenceBackend {
 public:
  OnnxRuntimeBackend() {
    const OrtApiBase *base = OrtGetApiBase();
    api_ = base->GetApi(ORT_API_VERSION);
    if (api_ == nullptr) {
      throw InferError(std::string("the ONNX Runtime library (") + base->GetVersionString() +
                       ") does not provide C API version " + std::to_string(ORT_API_VERSION) +
                       "; it must be ONNX Runtime 1." + std::to_string(ORT_API_VERSION) + " or newer");
    }
    version_ = base->GetVersionString();
  }

  ~OnnxRuntimeBackend() override {
    if (memory_info_) api_->ReleaseMemoryInfo(memory_info_);
    if (session_) api_->ReleaseSession(session_);
    if (options_) api_->ReleaseSessionOptions(options_);
    if (env_) api_->ReleaseEnv(env_);
  }

  void Load(const std::string &model_path, uint32_t /*device_id: CPU only*/) override {
    Check(api_->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ascend_310_infer", &env_), "create the environment");
    Check(api_->CreateSessionOptions(&options_), "create session options");
    const std::string where = "load the ONNX model " + model_path;
    Check(api_->CreateSession(env_, model_path.c_str(), options_, &session_), where);
    size_t inputs = 0, outputs = 0;
    Check(api_->SessionGetInputCount(session_, &inputs), where);
    Check(api_->SessionGetOutputCount(session_, &outputs), where);
    if (inputs != 1) {
      throw InferError(model_path + ": the model has " + std::to_string(inputs) + " inputs; this app feeds one");
    }
    OrtAllocator *allocator = nullptr;
    Check(api_->GetAllocatorWithDefaultOptions(&allocator), where);
    input_name_ = SessionName(true, 0, allocator, where);
    for (size_t i = 0; i < outputs; ++i) output_names_.push_back(SessionName(false, i, allocator, where));
    ReadInputShape(model_path, where);
    Check(api_->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memory_info_), where);
  }

  std::vector<int64_t> InputShape() const override { return input_shape_; }

  std::vector<Output> Predict(const float *data, size_t count) override {
    OrtValue *input = nullptr;
    Check(api_->CreateTensorWithDataAsOrtValue(memory_info_, const_cast<float *>(data), count * sizeof(float),
                                               input_shape_.data(), input_shape_.size(),
                                               ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &input),
          "wrap the input");
    Guard<OrtValue> input_guard(
        input, [this](OrtValue *value) { api_->ReleaseValue(value); });
    std::vector<const char *> names;
    for (const auto &name : output_names_) names.push_back(name.c_str());
    std::vector<OrtValue *> values(names.size(), nullptr);
    const char *input_name = input_name_.c_str();
    const OrtValue *inputs[] = {input};
    Check(api_->Run(session_, nullptr, &input_name, inputs, 1, names.data(), names.size(), values.data()), "run");
    std::vector<Guard<OrtValue>> guards;
    for (OrtValue *value : values) guards.emplace_back(value, [this](OrtValue *v) { api_->ReleaseValue(v); });
    std::vector<Output> results;
    for (OrtValue *value : values) results.push_back(ToOutput(value));
    return results;
  }

  std::string Name() const override { return "ONNX Runtime " + version_ + " (CPU)"; }

 private:
  void Check(OrtStatus *status, const std::string &what) const {
    if (status == nullptr) return;
    const std::string message = api_->GetErrorMessage(status);
    api_->ReleaseStatus(status);
    throw InferError("ONNX Runtime failed to " + what + ": " + message);
  }

  std::string SessionName(bool input, size_t index, OrtAllocator *allocator, const std::string &where) {
    char *raw = nullptr;
    Check(input ? api_->SessionGetInputName(session_, index, allocator, &raw)
                : api_->SessionGetOutputName(session_, index, allocator, &raw),
          where);
    std::string name(raw);
    Check(api_->AllocatorFree(allocator, raw), where);
    return name;
  }

  void ReadInputShape(const std::string &model_path, const std::string &where) {
    OrtTypeInfo *type_info = nullptr;
    Check(api_->SessionGetInputTypeInfo(session_, 0, &type_info), where);
    Guard<OrtTypeInfo> guard(
        type_info, [this](OrtTypeInfo *info) { api_->ReleaseTypeInfo(info); });
    const OrtTensorTypeAndShapeInfo *tensor_info = nullptr;
    Check(api_->CastTypeInfoToTensorInfo(type_info, &tensor_info), where);
    if (tensor_info == nullptr) throw InferError(model_path + ": the model's input is not a tensor");
    ONNXTensorElementDataType type;
    Check(api_->GetTensorElementType(tensor_info, &type), where);
    if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      throw InferError(model_path + ": the model's input is not float32 (ONNX element type " +
                       std::to_string(static_cast<int>(type)) + ")");
    }
    size_t rank = 0;
    Check(api_->GetDimensionsCount(tensor_info, &rank), where);
    input_shape_.assign(rank, 0);
    Check(api_->GetDimensions(tensor_info, input_shape_.data(), rank), where);
  }

  Output ToOutput(OrtValue *value) {
    OrtTensorTypeAndShapeInfo *info = nullptr;
    Check(api_->GetTensorTypeAndShape(value, &info), "read an output");
    Guard<OrtTensorTypeAndShapeInfo> guard(
        info, [this](OrtTensorTypeAndShapeInfo *i) { api_->ReleaseTensorTypeAndShapeInfo(i); });
    ONNXTensorElementDataType type;
    size_t rank = 0, elements = 0;
    Check(api_->GetTensorElementType(info, &type), "read an output");
    Check(api_->GetDimensionsCount(info, &rank), "read an output");
    Check(api_->GetTensorShapeElementCount(info, &elements), "read an output");
    Output output;
    output.shape.assign(rank, 0);
    Check(api_->GetDimensions(info, output.shape.data(), rank), "read an output");
    const size_t element_size = ElementSize(type);
    if (element_size == 0) {
      throw InferError("unsupported output element type " + std::to_string(static_cast<int>(type)));
    }
    void *data = nullptr;
    Check(api_->GetTensorMutableData(value, &data), "read an output");
    output.bytes.resize(elements * element_size);
    std::memcpy(output.bytes.data(), data, output.bytes.size());
    return output;
  }

  const OrtApi *api_ = nullptr;
  std::string version_;
  OrtEnv *env_ = nullptr;
  OrtSessionOptions *options_ = nullptr;
  OrtSession *session_ = nullptr;
  OrtMemoryInfo *memory_info_ = nullptr;
  std::string input_name_;
  std::vector<std::string> output_names_;
  std::vector<int64_t> input_shape_;
};

}  // namespace

std::unique_ptr<InferenceBackend> CreateOnnxRuntimeBackend() { return std::make_unique<OnnxRuntimeBackend>(); }
