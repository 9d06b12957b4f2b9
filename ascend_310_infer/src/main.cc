// Offline inference over a folder of raw float32 input files (see docs/offline_inference.md):
//   main --mindir_path=MODEL --input0_path=DIR [--device_id=N] [--backend=auto|onnxruntime|mindspore]
//        [--result_path=./result_Files] [--time_path=./time_Result] [--result_name=index|predict]
// Every DIR/*.bin (natural order) must hold exactly one model input; output i of input "x.bin" is written raw to
// RESULT/x_<i>.bin, as the original's I3D app did (--result_name=index), or, with --result_name=predict (the original's
// ECO-lite app), output 0 of "eval_data_5_.bin" to RESULT/eval_predict_5_.bin: the first "data" of the name becomes
// "predict" (outputs i > 0: eval_predict_5__<i>.bin). Per-file and mean inference times are printed, and the mean line is also
// written to TIME/test_perform_static.txt. Any error prints one "error: ..." line and exits with status 1 (2 for bad
// flags), before any result is written when the model or the inputs do not fit.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "backend.h"
#include "utils.h"

namespace {

const char kUsage[] =
    "usage: main --mindir_path=MODEL --input0_path=DIR [--device_id=N] [--backend=auto|onnxruntime|mindspore]\n"
    "            [--result_path=DIR] [--time_path=DIR] [--result_name=index|predict]\n"
    "  MODEL: .mindir (MindSpore backend, Ascend 310) or .onnx (ONNX Runtime backend, CPU); --model_path is an alias\n"
    "  DIR: folder of raw float32 *.bin files, each exactly one model input\n";

struct Options {
  std::string model_path;
  std::string input_dir = "./data";
  uint32_t device_id = 0;
  std::string backend = "auto";
  std::string result_dir = "./result_Files";
  std::string time_dir = "./time_Result";
  std::string result_name = "index";
};

class UsageError : public InferError {
 public:
  using InferError::InferError;
};

uint32_t ParseDeviceId(const std::string &text) {
  size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (text.empty() || used != text.size() || text[0] == '-' || value > UINT32_MAX) {
    throw UsageError("--device_id must be a non-negative integer, got '" + text + "'");
  }
  return static_cast<uint32_t>(value);
}

// gflags-style flags (--name=value or --name value), without the gflags dependency the original hard-coded a path for.
Options ParseOptions(int argc, char **argv) {
  Options options;
  const std::map<std::string, std::string *> text_flags = {
      {"mindir_path", &options.model_path},  {"model_path", &options.model_path},
      {"input0_path", &options.input_dir},   {"backend", &options.backend},
      {"result_path", &options.result_dir},  {"time_path", &options.time_dir},
      {"result_name", &options.result_name}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    const size_t equals = name.find('=');
    if (equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw UsageError("--" + name + " needs a value");
    }
    if (name == "device_id") {
      options.device_id = ParseDeviceId(value);
    } else if (text_flags.count(name)) {
      *text_flags.at(name) = value;
    } else {
      throw UsageError("unknown flag --" + name);
    }
  }
  if (options.model_path.empty()) throw UsageError("--mindir_path (the model file) is required");
  if (options.result_name != "index" && options.result_name != "predict") {
    throw UsageError("--result_name must be index or predict, got '" + options.result_name + "'");
  }
  return options;
}

bool EndsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// auto: the model file's extension decides (.onnx -> onnxruntime, .mindir -> mindspore).
std::string ResolveBackend(const Options &options) {
  if (options.backend != "auto") return options.backend;
  if (EndsWith(options.model_path, ".onnx")) return "onnxruntime";
  if (EndsWith(options.model_path, ".mindir")) return "mindspore";
  throw UsageError("cannot tell the backend from the model name " + options.model_path +
                   " (expected .onnx or .mindir); pass --backend=onnxruntime or --backend=mindspore");
}

// Bytes of one input file; every dimension must be fixed, since the files carry no shape.
size_t InputBytes(const std::vector<int64_t> &shape, const std::string &model_path) {
  size_t elements = 1;
  for (int64_t dim : shape) {
    if (dim <= 0) {
      throw InferError(model_path + ": the model's input shape " + ShapeString(shape) +
                       " is not fixed; export it with a fixed batch size and clip shape");
    }
    elements *= static_cast<size_t>(dim);
  }
  return elements * sizeof(float);
}

// All sizes are checked before the first prediction, so a bad file leaves no partial results behind.
void CheckInputSizes(const std::vector<std::string> &files, size_t expected, const std::vector<int64_t> &shape) {
  std::ostringstream problems;
  size_t bad = 0;
  for (const auto &file : files) {
    const uint64_t actual = FileSize(file);
    if (actual != expected) {
      problems << "\n  " << file << ": expected " << expected << " bytes (float32 " << ShapeString(shape)
               << "), got " << actual << " bytes";
      ++bad;
    }
  }
  if (bad) {
    throw InferError(std::to_string(bad) + " input file(s) do not match the model input:" + problems.str());
  }
}

// Name of output `index` of input `file`: "x_<index>.bin" (index), or the name with its first "data" replaced by
// "predict" (predict; the original's ECO-lite naming), with "_<index>" before ".bin" for outputs after the first.
std::string ResultName(const std::string &file, size_t index, const std::string &naming) {
  if (naming == "index") return StemToFirstDot(file) + "_" + std::to_string(index) + ".bin";
  std::string name = std::filesystem::path(file).filename().string();
  name.replace(name.find("data"), 4, "predict");
  if (index == 0) return name;
  return name.substr(0, name.size() - 4) + "_" + std::to_string(index) + ".bin";
}

int Run(const Options &options) {
  if (!IsRegularFile(options.model_path)) throw InferError("model file not found: " + options.model_path);
  const std::string backend_name = ResolveBackend(options);
  const std::vector<std::string> files = ListInputFiles(options.input_dir);
  if (options.result_name == "predict") {
    for (const auto &file : files) {
      if (std::filesystem::path(file).filename().string().find("data") == std::string::npos) {
        throw InferError("--result_name=predict names results by replacing \"data\" in the input name, and " + file +
                         " has none (expected e.g. eval_data_0_.bin)");
      }
    }
  }
  std::unique_ptr<InferenceBackend> backend = CreateBackend(backend_name);
  backend->Load(options.model_path, options.device_id);
  const std::vector<int64_t> shape = backend->InputShape();
  const size_t bytes = InputBytes(shape, options.model_path);
  CheckInputSizes(files, bytes, shape);
  std::cout << "backend: " << backend->Name() << ", model " << options.model_path << ", input float32 "
            << ShapeString(shape) << ", " << files.size() << " file(s) in " << options.input_dir << std::endl;
  if (backend_name == "onnxruntime" && options.device_id != 0) {
    std::cout << "note: --device_id=" << options.device_id << " is ignored by the CPU backend" << std::endl;
  }

  MakeDirs(options.result_dir);
  std::vector<float> input(bytes / sizeof(float));
  std::vector<double> times_ms;
  for (const auto &file : files) {
    ReadFileInto(file, input.data(), bytes);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Output> outputs = backend->Predict(input.data(), input.size());
    const auto end = std::chrono::steady_clock::now();
    times_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string result = options.result_dir + "/" + ResultName(file, i, options.result_name);
      WriteFileAtomic(result, outputs[i].bytes.data(), outputs[i].bytes.size());
    }
    std::cout << file << ": " << std::fixed << std::setprecision(3) << times_ms.back() << " ms, " << outputs.size()
              << " output(s)" << std::endl;
  }

  const double average = std::accumulate(times_ms.begin(), times_ms.end(), 0.0) / times_ms.size();
  std::ostringstream line;
  line << "NN inference cost average time: " << std::fixed << std::setprecision(3) << average
       << "ms of infer_count " << times_ms.size();
  std::cout << line.str() << std::endl;
  MakeDirs(options.time_dir);
  const std::string time_file = options.time_dir + "/test_perform_static.txt";
  const std::string text = line.str() + "\n";
  WriteFileAtomic(time_file, text.data(), text.size());
  return 0;
}

}  // namespace

std::vector<std::string> CompiledBackends() {
  std::vector<std::string> names;
#ifdef HAVE_ONNXRUNTIME
  names.push_back("onnxruntime");
#endif
#ifdef HAVE_MINDSPORE
  names.push_back("mindspore");
#endif
  return names;
}

std::unique_ptr<InferenceBackend> CreateBackend(const std::string &name) {
#ifdef HAVE_ONNXRUNTIME
  if (name == "onnxruntime") return CreateOnnxRuntimeBackend();
#endif
#ifdef HAVE_MINDSPORE
  if (name == "mindspore") return CreateMindSporeBackend();
#endif
  std::string built;
  for (const auto &backend : CompiledBackends()) built += (built.empty() ? "" : ", ") + backend;
  if (name == "mindspore") {
    throw InferError("this build has no MindSpore backend (built with: " + built +
                     "), so it cannot run a .mindir model. On an Ascend 310 machine, build with "
                     "'bash build.sh mindspore' (MINDSPORE_PATH or the mindspore package); elsewhere export the "
                     "model to ONNX (export.py --file_format=ONNX) and pass the .onnx file");
  }
  if (name == "onnxruntime") {
    throw InferError("this build has no ONNX Runtime backend (built with: " + built +
                     "); build with 'bash build.sh onnxruntime'");
  }
  throw UsageError("unknown backend '" + name + "' (choose auto, onnxruntime or mindspore)");
}

int main(int argc, char **argv) {
  try {
    return Run(ParseOptions(argc, argv));
  } catch (const UsageError &error) {
    std::cerr << "error: " << error.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception &error) {
    std::cerr << "error: " << error.what() << std::endl;
    return 1;
  }
}
