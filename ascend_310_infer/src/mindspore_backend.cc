// Ascend 310 backend: a MINDIR model run by MindSpore's C++ inference API, as the original's app did (Serialization::Load,
// a Context with Ascend310DeviceInfo, Model::Build, Model::Predict). Compiled only with MINDSPORE_PATH (build.sh);
// with MindSpore Lite's library (MS_LITE_API) the model is built from its path, since Lite has no Serialization::Load.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "include/api/context.h"
#include "include/api/model.h"
#include "include/api/serialization.h"
#include "include/api/types.h"

namespace {

class MindSporeBackend : public InferenceBackend {
 public:
  void Load(const std::string &model_path, uint32_t device_id) override {
    auto context = std::make_shared<mindspore::Context>();
    auto ascend310 = std::make_shared<mindspore::Ascend310DeviceInfo>();
    ascend310->SetDeviceID(device_id);
    context->MutableDeviceInfo().push_back(ascend310);
#ifdef MS_LITE_API
    mindspore::Status status = model_.Build(model_path, mindspore::ModelType::kMindIR, context);
    Check(status, "build the model " + model_path + " on Ascend device " + std::to_string(device_id));
#else
    mindspore::Graph graph;
    mindspore::Status status = mindspore::Serialization::Load(model_path, mindspore::ModelType::kMindIR, &graph);
    Check(status, "load the MINDIR model " + model_path);
    status = model_.Build(mindspore::GraphCell(graph), context);
    Check(status, "build the model " + model_path + " on Ascend device " + std::to_string(device_id));
#endif
    inputs_ = model_.GetInputs();
    if (inputs_.size() != 1) {
      throw InferError(model_path + ": the model has " + std::to_string(inputs_.size()) +
                       " inputs; this app feeds one");
    }
    if (inputs_[0].DataType() != mindspore::DataType::kNumberTypeFloat32) {
      throw InferError(model_path + ": the model's input is not float32 (MindSpore type " +
                       std::to_string(static_cast<int>(inputs_[0].DataType())) + ")");
    }
  }

  std::vector<int64_t> InputShape() const override { return inputs_[0].Shape(); }

  std::vector<Output> Predict(const float *data, size_t count) override {
    const mindspore::MSTensor &model_input = inputs_[0];
    std::vector<mindspore::MSTensor> inputs;
    inputs.emplace_back(model_input.Name(), model_input.DataType(), model_input.Shape(), data,
                        count * sizeof(float));
    std::vector<mindspore::MSTensor> outputs;
    Check(model_.Predict(inputs, &outputs), "run the model");
    std::vector<Output> results;
    for (const auto &tensor : outputs) {
      Output output;
      output.shape = tensor.Shape();
      output.bytes.resize(tensor.DataSize());
      std::shared_ptr<const void> host = tensor.Data();  // copied to host memory if the tensor is on the device
      std::memcpy(output.bytes.data(), host.get(), output.bytes.size());
      results.push_back(std::move(output));
    }
    return results;
  }

  std::string Name() const override { return "MindSpore (Ascend 310)"; }

 private:
  static void Check(const mindspore::Status &status, const std::string &what) {
    if (status != mindspore::kSuccess) throw InferError("MindSpore failed to " + what + ": " + status.ToString());
  }

  mindspore::Model model_;
  std::vector<mindspore::MSTensor> inputs_;
};

}  // namespace

std::unique_ptr<InferenceBackend> CreateMindSporeBackend() { return std::make_unique<MindSporeBackend>(); }
