#include "model/weights.h"

#include <cmath>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace longrope {
namespace {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw std::runtime_error(path + ": cannot stat (" + std::strerror(errno) + ")");
    size_ = st.st_size;
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, 0);
      if (data_ == MAP_FAILED) throw std::runtime_error(path + ": mmap failed (" + std::strerror(errno) + ")");
    }
  }
  ~MappedFile() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  char* at(int64_t offset) const { return static_cast<char*>(data_) + offset; }
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the pages of a range we have copied out of (they re-read from the file if touched).
  void Release(int64_t offset, int64_t length) const {
    const int64_t page = ::sysconf(_SC_PAGESIZE);
    const int64_t begin = (offset + page - 1) / page * page, end = (offset + length) / page * page;
    if (end > begin) ::madvise(at(begin), end - begin, MADV_DONTNEED);  // advisory: failure only costs RSS
  }

 private:
  std::string path_;
  int fd_ = -1;
  void* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace

at::ScalarType ParseSafetensorsDtype(const std::string& dtype) {
  if (dtype == "F32") return at::kFloat;
  if (dtype == "BF16") return at::kBFloat16;
  if (dtype == "F16") return at::kHalf;
  throw std::invalid_argument("Expected F32, F16 or BF16 for tensor dtype but received '" + dtype + "'");
}

NamedTensors LoadTensors(const std::vector<TensorLocation>& locations, const at::Device& device,
                         at::ScalarType dtype, JobControl* job) {
  std::unordered_map<std::string, std::shared_ptr<MappedFile>> files;
  NamedTensors out;
  if (job) job->SetTotal(static_cast<int64_t>(locations.size()));
  for (const auto& loc : locations) {
    if (job) job->CheckCancelled();
    auto& file = files[loc.file];
    if (!file) file = std::make_shared<MappedFile>(loc.file);
    const at::ScalarType stored = ParseSafetensorsDtype(loc.dtype);
    int64_t numel = 1;
    for (int64_t s : loc.shape) numel *= s;
    const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(stored));
    if (loc.offset < 0 || bytes != loc.byte_length || loc.offset + bytes > file->size()) {
      throw std::runtime_error(loc.file + ": tensor " + loc.name + " lies outside the file or has the wrong size");
    }
    char* data = file->at(loc.offset);
    const bool aligned = reinterpret_cast<uintptr_t>(data) % c10::elementSize(stored) == 0;
    at::Tensor tensor;
    if (device.is_cpu() && stored == dtype && aligned) {
      std::shared_ptr<MappedFile> keep = file;  // the mapping lives as long as the tensor
      tensor = at::from_blob(data, loc.shape, [keep](void*) {}, at::TensorOptions().dtype(stored));
    } else {
      at::Tensor view = aligned ? at::from_blob(data, loc.shape, at::TensorOptions().dtype(stored))
                                : at::from_blob(data, {bytes}, at::TensorOptions().dtype(at::kByte))
                                      .clone().view(stored).view(loc.shape);
      tensor = view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
      file->Release(loc.offset, bytes);
    }
    // A NaN weight would make every result NaN (a perplexity of null, a passkey answer of NUL
    // bytes): refuse it here, naming the tensor, instead of returning numbers that mean nothing.
    // The sum is NaN or infinite when an element is (a weight sum beyond 3e38 is no real
    // checkpoint either), and unlike a mask or a float64 copy it needs no memory of the tensor's size.
    if (!std::isfinite(tensor.sum().item<double>())) {
      throw std::runtime_error(loc.file + ": tensor " + loc.name +
                               " holds non-finite values (NaN or infinity): the checkpoint is corrupt or from a diverged run");
    }
    out.emplace(loc.name, tensor);
    if (job) job->AddDone(1);
  }
  return out;
}

void SaveTensors(const std::string& path, const std::string& header, const std::vector<at::Tensor>& tensors,
                 const std::vector<std::string>& dtypes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(tmp + ": cannot open for writing");
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (size_t i = 0; i < tensors.size(); ++i) {
      at::Tensor t = tensors[i].detach().to(at::kCPU).to(ParseSafetensorsDtype(dtypes[i])).contiguous();
      f.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    }
    f.flush();
    if (!f) throw std::runtime_error(tmp + ": write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error(path + ": cannot rename the temporary file (" + std::strerror(errno) + ")");
  }
}

}  // namespace longrope
