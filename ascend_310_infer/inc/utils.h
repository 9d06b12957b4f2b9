// File helpers of the app: input listing, sized reads, atomic writes.
#ifndef ASCEND_310_INFER_INC_UTILS_H_
#define ASCEND_310_INFER_INC_UTILS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The *.bin files directly in `dir` (hidden files, e.g. a writer's temporaries, are left out), in natural order
// (x_2.bin before x_10.bin). Throws InferError when `dir` is not a folder or holds no such file.
std::vector<std::string> ListInputFiles(const std::string &dir);

// Size of a regular file in bytes; throws InferError naming the file when it cannot be read.
uint64_t FileSize(const std::string &path);

// Reads exactly `bytes` bytes of `path` into `buffer`.
void ReadFileInto(const std::string &path, void *buffer, size_t bytes);

// Writes `size` bytes under a temporary name beside `path`, then renames it onto `path`.
void WriteFileAtomic(const std::string &path, const void *data, size_t size);

// `path`'s file name up to its first '.': "dir/hmdb51_bsrgb_7.bin" -> "hmdb51_bsrgb_7" (the original's result naming).
std::string StemToFirstDot(const std::string &path);

bool IsRegularFile(const std::string &path);
void MakeDirs(const std::string &dir);
std::string ShapeString(const std::vector<int64_t> &shape);

#endif  // ASCEND_310_INFER_INC_UTILS_H_
