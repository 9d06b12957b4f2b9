#include "utils.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "backend.h"

namespace fs = std::filesystem;

namespace {

// Natural order: digit runs compare as numbers, so the original's lexicographic "_10 before _2" cannot happen.
bool NaturalLess(const std::string &a, const std::string &b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i_end = i, j_end = j;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end]))) ++i_end;
      while (j_end < b.size() && std::isdigit(static_cast<unsigned char>(b[j_end]))) ++j_end;
      std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::vector<std::string> ListInputFiles(const std::string &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InferError("input folder not found: " + dir);
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || entry.path().extension() != ".bin") continue;
    if (entry.is_regular_file(ec)) names.push_back(name);
  }
  if (ec) throw InferError("cannot list the input folder " + dir + ": " + ec.message());
  if (names.empty()) throw InferError("no input files (*.bin) in " + dir);
  std::sort(names.begin(), names.end(), NaturalLess);
  std::vector<std::string> paths;
  paths.reserve(names.size());
  for (const auto &name : names) paths.push_back((fs::path(dir) / name).string());
  return paths;
}

uint64_t FileSize(const std::string &path) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) throw InferError("cannot read " + path + ": " + ec.message());
  return size;
}

void ReadFileInto(const std::string &path, void *buffer, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in || !in.read(static_cast<char *>(buffer), static_cast<std::streamsize>(bytes))) {
    throw InferError("cannot read " + std::to_string(bytes) + " bytes from " + path);
  }
}

void WriteFileAtomic(const std::string &path, const void *data, size_t size) {
  const fs::path target(path);
  const fs::path partial = target.parent_path() / ("." + target.filename().string() + ".partial");
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(static_cast<const char *>(data), static_cast<std::streamsize>(size))) {
      throw InferError("cannot write " + partial.string());
    }
  }
  std::error_code ec;
  fs::rename(partial, target, ec);
  if (ec) throw InferError("cannot rename " + partial.string() + " to " + path + ": " + ec.message());
}

std::string StemToFirstDot(const std::string &path) {
  const std::string name = fs::path(path).filename().string();
  return name.substr(0, name.find('.'));
}

bool IsRegularFile(const std::string &path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

void MakeDirs(const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InferError("cannot create the folder " + dir + ": " + ec.message());
}

std::string ShapeString(const std::vector<int64_t> &shape) {
  std::ostringstream text;
  text << "[";
  for (size_t i = 0; i < shape.size(); ++i) text << (i ? ", " : "") << shape[i];
  text << "]";
  return text.str();
}
